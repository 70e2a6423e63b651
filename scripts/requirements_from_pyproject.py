"""Print the runtime and dev requirements of pyproject.toml, one per line, for pip -r."""

import pathlib
import tomllib

project = tomllib.loads(
    (pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
)["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    print(requirement)
