"""HTTP routers, versioned under /v1. Each module maps one concern onto the services."""
