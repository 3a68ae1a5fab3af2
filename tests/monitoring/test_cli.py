"""``civicgrid env aqi``, ``env water-class`` and ``hj212 inspect`` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "civicgrid"
STANDARD = (
    "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&RtdInterval=30&&1C80\r\n"
)


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_aqi_json_on_the_worked_example() -> None:
    r = run(
        "env",
        "aqi",
        "--date",
        "2025-12-01",
        "--json",
        *["PM2.5=80", "PM10=120", "SO2=10", "NO2=40", "CO=1.0", "O3_8h=100"],
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["aqi"], out["level"], out["category"], out["color"], out["primary"]) == (
        107,
        3,
        "轻度污染",
        "#FF7E00",
        ["PM2.5"],
    )
    assert out["iaqi"]["PM10"] == 85


def test_aqi_text_and_bad_input() -> None:
    r = run("env", "aqi", "--date", "2025-12-01", "PM2.5=80")
    assert "AQI 107  三级 轻度污染" in r.stdout
    bad = run("env", "aqi", "PM2.5=abc")
    assert bad.returncode == 2 and "PM2.5 的数值无法识别" in bad.stderr and "Traceback" not in bad.stderr
    unknown = run("env", "aqi", "PM1=3")
    assert unknown.returncode == 2 and "未知的指标 PM1" in unknown.stderr


def test_water_class_json() -> None:
    r = run("env", "water-class", "--lake", "--json", "DO=6.5", "NH3-N=1.2", "TP=0.1")
    out = json.loads(r.stdout)
    assert out["class"] == "IV" and out["label"] == "轻度污染" and out["per_indicator"]["DO"] == "II"


def test_inspect_says_which_packets_are_valid_and_why_not(tmp_path: Path) -> None:
    bad = STANDARD.replace("1C80", "0759")
    r = run("hj212", "inspect", "--json", stdin="noise" + STANDARD + bad)
    assert r.returncode == 1
    first, second = (json.loads(line) for line in r.stdout.splitlines())
    assert (
        first["valid"]
        and first["header"]["MN"] == "010000A8900016F000169DC0"
        and first["cp"] == {"RtdInterval": "30"}
    )
    assert not second["valid"] and second["qn_rtn"] == 9 and "应为 1C80" in second["error"]
    f = tmp_path / "p.txt"
    f.write_text(STANDARD.rstrip())  # pasted without the line end
    ok = run("hj212", "inspect", str(f))
    assert ok.returncode == 0 and "有效 HJ 212-2017" in ok.stdout
