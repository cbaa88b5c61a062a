"""Peak memory of the CLI on every kind of refused input (issue 17's target: < 500 MB each).

Each case runs `python -m demix_core ...` in a fresh process that reports its own peak RSS
(VmHWM of /proc/self/status: the high-water mark since exec; `ru_maxrss` would include the
RSS of the forking parent), so the figure is what refusing that input costs, interpreter and
torch included. Prints one line per case: peak MB, exit code and the error line.

    .venv/bin/python bench/refused_inputs.py
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hardening_support import cli_peak  # noqa: E402


def run(*args) -> tuple[int, float, str]:
    """(exit code, peak MB, error line) of the CLI in a fresh process that reports its own
    peak RSS (the tests' runner, so the bench measures what they assert)."""
    code, peak, err = cli_peak(*map(str, args))
    return code, peak, err.strip()


def folder_with(tmp: Path, name: str, train_file: str, write) -> Path:
    folder = tmp / name
    folder.mkdir()
    with (gzip.open if train_file.endswith(".gz") else open)(folder / train_file, "wb") as f:
        write(f)
    for split in ("valid", "test"):
        (folder / f"{split}.txt").write_bytes(b"a\tr\tb\n")
    return folder


def main() -> None:
    from demix_core.checkpoint import atomic_save, checkpoint_dict
    from demix_core.data import load_dataset
    from demix_core.models import KGEModel
    from demix_core.textio import MAX_UNPACKED

    block = b"a\tr\tb\n" * (2**20 // 6)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        mb = MAX_UNPACKED // 2**20
        bomb = folder_with(tmp, "bomb", "train.txt.gz",
                           lambda f: [f.write(block) for _ in range(mb + 1)])  # fmt: skip
        nul_last = folder_with(tmp, "nul", "train.txt",
                               lambda f: ([f.write(block) for _ in range(mb - 1)],
                                          f.write(b"x\x00y\tr\tz\n")))  # fmt: skip
        packed_kb = (bomb / "train.txt.gz").stat().st_size // 1024
        kg = load_dataset("nations")
        model = KGEModel("rotate", kg.num_entities, kg.num_relations, 200, 6.0)
        ckpt = checkpoint_dict(model, kg, {"dataset": "nations"}, 0)
        ckpt["entity_embedding"].fill_(float("nan"))
        atomic_save(ckpt, tmp / "nan.pt")
        home = tmp / "home"
        home.mkdir()
        (home / "runs.sqlite").write_bytes(b"not sqlite" * 1000)
        out = tmp / "out"
        cases = {
            f".txt.gz bomb ({packed_kb} KB -> {mb + 1} MB)": (
                "train",
                "--dataset",
                bomb,
                "--out",
                out,
            ),  # fmt: skip
            f"NUL on the last line of a {mb - 1} MB split": (
                "train",
                "--dataset",
                nul_last,
                "--out",
                out,
            ),  # fmt: skip
            "--negatives 100000 on Nations (B 512, dim 200)": (
                "train",
                "--dataset",
                "nations",
                "--negatives",
                "100000",
                "--batch-size",
                "512",
                "--dim",
                "200",
                "--out",
                out,
            ),  # fmt: skip
            "synthetic:entities=100000000": (
                "train",
                "--dataset",
                "synthetic:entities=100000000",
                "--out",
                out,
            ),  # fmt: skip
            "NaN checkpoint (RotatE dim 200)": (
                "evaluate",
                "--checkpoint",
                tmp / "nan.pt",
                "--dataset",
                "nations",
            ),  # fmt: skip
            "damaged runs.sqlite": ("runs", "--home", home, "list"),
            "--gamma nan": ("train", "--dataset", "nations", "--gamma", "nan", "--out", out),
        }
        print(f"{'case':52} {'peak MB':>8} {'exit':>5}  error line")
        for label, args in cases.items():
            code, peak, err = run(*args)
            print(f"{label:52} {peak:8.0f} {code:5d}  {err[:110]}")
        peak, err = upload_peak(bomb / "train.txt.gz", tmp / "upload.txt")
        print(f"{'the same bomb as an app upload (save_upload path)':52} {peak:8.0f}     -  {err}")


UPLOAD = """
import io, json, sys
from pathlib import Path
from demix_core.errors import DatasetError
from demix_core.textio import copy_unpacked
def hwm():  # this process's peak RSS since exec (ru_maxrss would count the forking parent's)
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
data = io.BytesIO(Path(sys.argv[1]).read_bytes())  # an upload arrives in memory, packed
try:
    copy_unpacked(data, Path(sys.argv[2]), "train.txt.gz")
    err = "accepted"
except DatasetError as e:
    err = f"error: {e}"
peak = hwm()
print(json.dumps({"peak_mb": peak, "err": err, "written": Path(sys.argv[2]).exists()}))
"""


def upload_peak(packed: Path, dest: Path) -> tuple[float, str]:
    """What the app's upload path (`textio.copy_unpacked`) costs on `packed`."""
    r = subprocess.run([sys.executable, "-c", UPLOAD, str(packed), str(dest)], cwd=ROOT,
                       capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    report = json.loads(r.stdout.strip().splitlines()[-1])
    return report["peak_mb"], f"{report['err'][:80]} (file written: {report['written']})"


if __name__ == "__main__":
    main()
