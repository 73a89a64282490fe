from audit.cli.main import entry

entry()
