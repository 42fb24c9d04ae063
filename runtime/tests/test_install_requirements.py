"""runtime/image/install_requirements.py with a stand-in for pip: what reaches the second install and when."""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "image", "install_requirements.py")

# A pip that records each requirements file it is given and refuses the packages named in $MISSING as pip does.
FAKE_PIP = textwrap.dedent("""
    import json, os, re, sys
    path = sys.argv[sys.argv.index("-r") + 1]
    lines = open(path).read().splitlines()
    with open(os.environ["CALLS"], "a") as f:
        f.write(json.dumps(lines) + "\\n")
    for line in lines:
        m = re.match(r"\\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if m and not line.strip().startswith("-") and m.group(1) in os.environ["MISSING"].split(","):
            print("ERROR: Could not find a version that satisfies the requirement %s (from versions: none)" % line.strip())
            print("ERROR: No matching distribution found for %s" % line.strip())
            sys.exit(1)
    print("Successfully installed")
""")


class InstallRequirementsTest(unittest.TestCase):
    def install(self, requirements, missing):
        d = tempfile.mkdtemp()
        req, pip, calls = (os.path.join(d, n) for n in ("requirements.txt", "pip.py", "calls"))
        with open(req, "w") as f:
            f.write(requirements)
        with open(pip, "w") as f:
            f.write(FAKE_PIP)
        env = dict(os.environ, CALLS=calls, MISSING=",".join(missing))
        r = subprocess.run([sys.executable, SCRIPT, req, sys.executable, pip, "install"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        with open(calls) as f:
            installs = [json.loads(line) for line in f]
        return r.returncode, r.stdout, installs

    def test_prompt_flows_packages_missing_from_the_index_are_left_to_the_runtime(self):
        reqs = "--extra-index-url https://example.invalid/simple\npromptflow[azure]>=1.10.0\nPromptflow_Tools\nrequests==2.31\n"
        code, out, installs = self.install(reqs, ["promptflow[azure]>=1.10.0", "promptflow"])
        self.assertEqual(code, 0, out)
        self.assertEqual(installs[1], ["--extra-index-url https://example.invalid/simple", "requests==2.31"])
        self.assertIn("promptflow, promptflow-tools cannot be installed from the package index", out)

    def test_only_prompt_flows_packages_then_nothing_more_is_installed(self):
        code, out, installs = self.install("promptflow==1.11.0.dev125998521\n", ["promptflow"])
        self.assertEqual(code, 0, out)
        self.assertEqual(len(installs), 1)

    def test_another_missing_package_fails_with_pips_message(self):
        code, out, installs = self.install("promptflow\npython-dotenv\n", ["promptflow", "python-dotenv"])
        self.assertEqual(code, 1)
        self.assertEqual(installs, [["promptflow", "python-dotenv"], ["python-dotenv"]])
        self.assertIn("No matching distribution found for python-dotenv", out)

    def test_a_missing_package_that_is_not_prompt_flows_is_not_retried(self):
        code, out, installs = self.install("promptflow-tools\nno-such-pkg\n", ["no-such-pkg"])
        self.assertEqual(code, 1)
        self.assertEqual(len(installs), 1)
        self.assertNotIn("runtime's prompt flow API", out)

    def test_when_the_index_has_them_they_are_installed(self):
        code, out, installs = self.install("promptflow\n", [])
        self.assertEqual((code, installs), (0, [["promptflow"]]))


if __name__ == "__main__":
    unittest.main()
