"""{{name}}: an Amanat plugin in Python.

The wallet calls `metadata` to learn its actions and `run` to run one;
everything it reads or proposes goes through `host`, checked against the
permissions in amanat-plugin.json. A refused host call raises
`componentize_py_types.Err` with the wallet's reason.
"""

import wit_world
from componentize_py_types import Err
from wit_world.imports import host, types


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.Metadata:
        return types.Metadata(
            name="{{name}}",
            version="0.1.0",
            actions=[types.ActionInfo(name="hello", description="Says hello and counts your test results",
                                      takes_file=False, takes_records=False)],
        )

    def run(self, action: str, input: types.ActionInput) -> types.ActionOutput:
        if action != "hello":
            raise Err(types.PluginError_InvalidInput(f"unknown action '{action}'"))
        try:
            results = host.list_records("Observation")
        except Err as refused:
            raise Err(types.PluginError_Denied(refused.value))
        host.log(types.LogLevel.INFO, f"listed {len(results)} results")
        return types.ActionOutput(message=f"Hello from {{name}}: you have {len(results)} test results.",
                                  document=None)
