from punie_datagen.cli import main

raise SystemExit(main())
