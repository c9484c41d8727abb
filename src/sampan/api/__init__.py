"""The HTTP application: mounts every domain's routes, authentication and error mapping."""
