"""The OpenID Connect provider: the shop's other applications sign their users in here.

clients.py keeps the registered applications, signing_keys.py the keys that sign tokens,
grants.py the codes, refresh tokens and consents, and protocol.py puts them behind
Authlib's authorization server, which speaks the protocol."""
