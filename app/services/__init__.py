"""The rules of the application, as plain classes with no Pyramid imports."""
