"""The web plumbing between WSGI and the controllers: the request object, cookies, the
client's address, security headers, request ids, body limits and the access log."""
