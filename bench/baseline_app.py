"""The baseline: the smallest Pyramid app that answers a fixed HTML page of about the
size of the sign-in page. Served by the same waitress settings as the app, it shows what
the server and the framework cost before the app does anything."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.router import Router

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in &middot; Accounts</title>
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
  <header class="site-header">
    <nav class="nav" aria-label="Main">
      <a class="brand" href="/">Accounts</a>
      <ul class="nav-links">
        <li><a href="/account/signin">Sign in</a></li>
        <li><a href="/account/register">Register</a></li>
      </ul>
    </nav>
  </header>
  <main class="content" id="main">
    <div class="card">
      <h1>Sign in</h1>
      <form method="post" action="/account/signin" novalidate>
        <input type="hidden" name="csrf_token" value="0123456789abcdef0123456789abcdef01234567">
        <input type="hidden" name="came_from" value="/account">
        <label for="email">Email address</label>
        <input id="email" name="email" type="email" value="" autocomplete="username" required>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" required>
        <button type="submit" class="button">Sign in</button>
      </form>
      <p class="aside"><a href="/account/forgot_password">Forgot your password?</a></p>
    </div>
  </main>
  <footer class="site-footer">
    <p>Accounts &middot; your password is stored only as a salted argon2id hash.</p>
  </footer>
</body>
</html>
"""


def page(request: Request) -> Response:
    return Response(PAGE, content_type="text/html", charset="utf-8")


def make_app() -> Router:
    with Configurator() as config:
        config.add_route("page", "/")
        config.add_view(page, route_name="page", request_method="GET")
    return config.make_wsgi_app()
