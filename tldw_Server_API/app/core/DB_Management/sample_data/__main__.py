"""``python -m tldw_Server_API.app.core.DB_Management.sample_data``: write a sample installation."""

from . import main

raise SystemExit(main())
