"""A Python unittest suite run under the qa-default policy (tests/integration/test_policies.c)."""
import json
import os
import subprocess
import tempfile
import threading
import unittest


class TextTests(unittest.TestCase):
    def test_split(self):
        self.assertEqual("a b  c".split(), ["a", "b", "c"])

    def test_json_round_trip(self):
        doc = {"name": "labstack", "n": [1, 2, 3]}
        self.assertEqual(json.loads(json.dumps(doc)), doc)

    def test_tempfile(self):
        with tempfile.NamedTemporaryFile("w+", dir=os.environ.get("TMPDIR", "/tmp")) as f:
            f.write("hello")
            f.seek(0)
            self.assertEqual(f.read(), "hello")

    def test_subprocess(self):
        out = subprocess.run(["sh", "-c", "echo sub"], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), "sub")

    def test_threads(self):
        results = []
        threads = [threading.Thread(target=results.append, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [0, 1, 2, 3])


if __name__ == "__main__":
    unittest.main()
