"""Headless commands stay light: no textual, kubernetes or hvac unless a command needs them; the policy engines
(regopy, CEL) never in the calling process, and the policy machinery only in commands that evaluate policies."""

import json
import subprocess
import sys

# regopy and cel (common-expression-language) run only in the policy worker process, even where policies apply
# (the demo's scaffold below is checked against the bundled policies).
HEAVY = ("textual", "kubernetes", "hvac", "regopy", "cel")

SCRIPT = """
import io, json, sys, contextlib
import idp_tui.cli, idp_tui.session
import idp_tui.catalog.model, idp_tui.catalog.search, idp_tui.catalog.facets, idp_tui.catalog.techdocs
import idp_tui.render.entity_detail, idp_tui.render.tables
import idp_tui.oncall.who, idp_tui.oncall.providers, idp_tui.oncall.demo, idp_tui.oncall.pagerduty
import idp_tui.oncall.opsgenie, idp_tui.render.oncall
import idp_tui.golden.runner, idp_tui.golden.forms, idp_tui.golden.local, idp_tui.golden.dry_run
from idp_tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["catalog", "list", "--json"])
    main(["catalog", "show", "payment-processor"])
    main(["validate", "--json", sys.argv[1]])
    main(["who", "payment-processor", "--json"])
    main(["who", "P7XK2MD"])
    main(["team", "engineering"])
    main(["scaffold", "documentation-site", "--dry-run", "--json", "--set", "name=docs",
          "--set", "owner=group:default/team-platform", "--set", "repoUrl=github.com?owner=o&repo=docs"])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
"""


def test_domain_and_headless_modules_do_not_import_ui_or_cluster_libraries(tmp_path):
    target = tmp_path / "c.yaml"
    target.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team, children: []}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT % (HEAVY,), str(target)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


NO_POLICIES_SCRIPT = """
import io, json, sys, contextlib
from idp_tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    main(["catalog", "list", "--json"])
    main(["catalog", "show", "payment-processor"])
    main(["validate", "--json", sys.argv[1]])
    main(["who", "payment-processor", "--json"])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("idp_tui.policy."))))
"""


def test_commands_that_evaluate_no_policy_load_no_policy_machinery(tmp_path):
    # On the demo profile, whose policies apply to golden paths: listing, showing, validating without --policy and
    # asking who is on call load none of them (no worker process starts either).
    target = tmp_path / "c.yaml"
    target.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team, children: []}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", NO_POLICIES_SCRIPT, str(target)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
