"""The only code that changes state. Each write and its audit event share one transaction."""
