"""The test suite. Chameleon reads CHAMELEON_CACHE when it is first imported, so it is
set here, before any test module imports the app: each app a test makes would otherwise
compile every template it renders again; with the folder, each template is compiled once
per change of its source, for every run."""

import os
import tempfile

os.environ.setdefault(
    "CHAMELEON_CACHE", os.path.join(tempfile.gettempdir(), f"accounts-chameleon-{os.getuid()}")
)
os.makedirs(os.environ["CHAMELEON_CACHE"], exist_ok=True)
