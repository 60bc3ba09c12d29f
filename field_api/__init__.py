"""HTTP only: the FastAPI app factory, routes, schemas, auth and the command line."""
