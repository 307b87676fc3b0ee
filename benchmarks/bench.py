#!/usr/bin/env python3
"""Townsquare end-to-end benchmark: store, backend, publisher, page weight.

Run from anywhere::

    python3 benchmarks/bench.py            # full run, about 5-7 minutes
    python3 benchmarks/bench.py --quick    # about 2 minutes

Everything happens in a temporary folder: a generated site of 1,000 topics,
stores of several sizes seeded straight through the repository, the real
``townsquare`` command and the real backend (waitress) on 127.0.0.1, with
``wrk`` as the load generator. See benchmarks/README.md for what each number
means. Results go to stdout (one table) and benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUA = HERE / "wrk_bench.lua"
RESULTS = HERE / "results"

N_TOPICS = 1000
READ_COMMENTS = 100  # the topic the read test asks for holds this many
BUSY_COMMENTS = 10_000  # the busy topic of the "busy" case
HOST = "127.0.0.1"  # every server and every request stays on loopback
NOISY_BACKGROUND_PCT = 15.0  # warn when other programs used more of the CPU

TARGETS = {
    "write_rps_c10": 500.0,  # >= requests/s at 10 connections
    "write_p99_ms_c10": 50.0,  # < ms
    "write_p50_ms_c1": 3.0,  # < ms
    "write_scaling": 1.5,  # rate at 1k / rate at 100k <=
    "read_rps_c10": 2000.0,  # >=
    "read_p99_ms_c10": 10.0,  # <
    "one_comment_publish_s": 1.0,  # <
    "full_vs_pelican": 1.2,  # <=
    "page_bytes": 100 * 1024,  # <
    "script_gzip_bytes": 10 * 1024,  # <
}


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Invented text for topics and comments (no real people, places or data)
# --------------------------------------------------------------------------

PLACES = [
    "Mill Road", "Harbour Street", "Kingsmead", "the Old Quay", "Northgate",
    "Riverside", "Fernhill", "Market Square", "Copper Lane", "Southbank",
    "Elm Park", "Station Road", "Westcliff", "Brook Meadow", "the Ropewalk",
]  # fmt: skip
THEMES = [
    "bike lanes", "bus route", "parking", "playground", "library hours",
    "snow clearing", "tree planting", "community centre", "speed limits",
    "recycling", "street lighting", "crosswalks", "public toilets",
    "skate park", "farmers market", "dog park", "sidewalk repairs",
    "noise bylaw", "bike parking", "splash pad",
]  # fmt: skip
ADJECTIVES = [
    "New", "Safer", "Better", "Longer", "Greener", "Quieter", "Cheaper",
    "Wider", "Extended", "Improved", "Shared", "Seasonal",
]  # fmt: skip
TAGS = [
    "transport", "parks", "budget", "housing", "library", "winter",
    "environment", "safety", "accessibility", "youth", "seniors", "business",
    "council", "roads", "waste", "culture", "health", "water", "planning",
    "events", "trees", "cycling", "walking", "noise", "downtown",
]  # fmt: skip
SUBJECTS = [
    "The town", "Council", "Staff", "The draft plan", "This proposal",
    "The engineering team", "Our consultants", "The parks department",
    "The budget committee", "Local businesses", "Many residents",
    "The transit office",
]  # fmt: skip
VERBS = [
    "would improve", "could reduce", "aims to expand", "will review",
    "proposes to change", "plans to replace", "wants to test", "would fund",
    "is studying", "recommends keeping", "suggests moving", "expects to open",
]  # fmt: skip
OBJECTS = [
    "service on {place}", "the crossing near {place}", "winter maintenance",
    "the path along {place}", "opening hours", "the lighting on {place}",
    "parking near {place}", "the budget for {theme}", "access for wheelchairs",
    "the schedule for {theme}", "signs and maps", "the old building on {place}",
]  # fmt: skip
TAILS = [
    "by next spring", "before the council vote in {month}",
    "at a cost of about ${n},000", "for a trial of {k} months",
    "after the public meetings", "if the grant is approved",
    "starting in {month}", "within the current budget",
    "with help from volunteers", "once the survey closes",
]  # fmt: skip
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]  # fmt: skip
FIRST_NAMES = [
    "Ada", "Bram", "Cleo", "Dov", "Esme", "Finn", "Gwen", "Hal", "Ines",
    "Joss", "Kit", "Lior", "Mags", "Nell", "Oren", "Pim", "Quin", "Ros",
    "Sol", "Tam", "Uma", "Vik", "Wren", "Yael", "Zed",
]  # fmt: skip


def sentence(rng: random.Random, theme: str, place: str) -> str:
    obj = rng.choice(OBJECTS).format(place=rng.choice([place, *PLACES]), theme=theme)
    tail = rng.choice(TAILS).format(
        month=rng.choice(MONTHS), n=rng.randint(20, 900), k=rng.randint(3, 18)
    )
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {obj} {tail}."


def paragraph(rng: random.Random, theme: str, place: str, sentences: int) -> str:
    return " ".join(sentence(rng, theme, place) for _ in range(sentences))


def topic_markdown(index: int, slug: str, slugs: list[str], rng: random.Random) -> str:
    theme = THEMES[index % len(THEMES)]
    place = PLACES[(index // len(THEMES)) % len(PLACES)]
    title = f"{rng.choice(ADJECTIVES)} {theme} for {place} ({index + 1})"
    date = datetime(2024, 1, 1, 9, 0) + timedelta(hours=17 * index)
    tags = ", ".join(rng.sample(TAGS, rng.randint(2, 3)))
    summary = sentence(rng, theme, place)
    target_words = rng.randint(280, 330)
    parts = [paragraph(rng, theme, place, rng.randint(2, 4))]
    parts.append("## What is proposed")
    parts.append(paragraph(rng, theme, place, rng.randint(2, 3)))
    parts.append("\n".join(f"- {sentence(rng, theme, place)}" for _ in range(3)))
    related = slugs[(index * 37 + 11) % len(slugs)]
    parts.append(
        f"See also the [related topic]({{filename}}/topics/{related}.md). "
        f"**Your views** shape what {rng.choice(SUBJECTS).lower()} decides."
    )
    parts.append("## What we want to hear")
    while sum(len(p.split()) for p in parts) < target_words:
        parts.append(paragraph(rng, theme, place, rng.randint(2, 3)))
    body = "\n\n".join(parts)
    return (
        f"Title: {title}\nDate: {date:%Y-%m-%d %H:%M}\nSummary: {summary}\n"
        f"Tags: {tags}\nDiscussion: open\n\n{body}\n"
    )


ABOUT = """Title: About this site
Summary: What this site is and how to take part.

This is a generated site for the Townsquare benchmark. Every topic, name and
comment on it is invented.

## How to take part

1. Pick a topic.
2. Read what others said.
3. Add your comment at the bottom of the page.
"""


def topic_slugs() -> list[str]:
    return [
        f"{THEMES[i % len(THEMES)].replace(' ', '-')}-{i + 1:04d}"
        for i in range(N_TOPICS)
    ]


def generate_site(target: Path) -> list[str]:
    """A Pelican site with the repo's settings and theme and 1,000 topics."""
    slugs = topic_slugs()
    target.mkdir(parents=True)
    shutil.copy2(REPO / "site" / "pelicanconf.py", target / "pelicanconf.py")
    shutil.copytree(
        REPO / "site" / "theme",
        target / "theme",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    topics = target / "content" / "topics"
    topics.mkdir(parents=True)
    (target / "content" / "pages").mkdir()
    (target / "content" / "pages" / "about.md").write_text(ABOUT, encoding="utf-8")
    rng = random.Random(2026)
    for index, slug in enumerate(slugs):
        text = topic_markdown(index, slug, slugs, rng)
        (topics / f"{slug}.md").write_text(text, encoding="utf-8")
    return slugs


def comment_variants(count: int = 8) -> list[tuple[str, str]]:
    """(body, html) pairs of 200-400 characters, rendered once by the product."""
    from townsquare.comments.rendering import render

    rng = random.Random(7)
    variants: list[tuple[str, str]] = []
    while len(variants) < count:
        kind = len(variants) % 4
        theme, place = rng.choice(THEMES), rng.choice(PLACES)
        text = paragraph(rng, theme, place, 2)
        if kind == 1:
            text = f"**I agree** with most of this. {text}"
        elif kind == 2:
            text = (
                f"{sentence(rng, theme, place)}\n\n- {sentence(rng, theme, place)}\n"
                f"- {sentence(rng, theme, place)}"
            )
        elif kind == 3:
            text = (
                f"{text} More at [the plan](https://example.org/plan-{len(variants)})."
            )
        if 200 <= len(text) <= 400:
            variants.append((text, render(text)))
    return variants


# --------------------------------------------------------------------------
# Seeding the store straight through the repository
# --------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    per_topic: int
    busy: bool = False
    dir: Path = Path()
    read_slug: str = ""
    post_slugs: list[str] = field(default_factory=list)
    plan: dict[str, int] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def site(self) -> Path:
        return self.dir / "site"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def output(self) -> Path:
        return self.dir / "output"


def make_plan(case: Case, slugs: list[str]) -> None:
    """How many comments each topic gets; the read topic always ends at 100."""
    case.read_slug = slugs[0]
    plan = {slug: case.per_topic for slug in slugs}
    plan[case.read_slug] = max(plan[case.read_slug], READ_COMMENTS)
    if case.busy:
        busy_slug = slugs[1]
        plan[busy_slug] = BUSY_COMMENTS
        case.post_slugs = [busy_slug]
    else:
        # The read topic is left out so the read test always sees 100 comments.
        case.post_slugs = slugs[1:]
    case.plan = plan


def seed_store(case: Case, variants: list[tuple[str, str]]) -> float:
    from townsquare.storage import open_store
    from townsquare.storage.comments import PUBLISHED, NewComment

    started = time.perf_counter()
    store = open_store(case.data)
    rng = random.Random(case.name)
    base = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    serial = 0
    names = FIRST_NAMES
    for slug, count in case.plan.items():
        batch = []
        for k in range(count):
            serial += 1
            body, html = variants[serial % len(variants)]
            # About one in five is a reply to an earlier comment (ids start at 1).
            parent = rng.randint(1, k) if k >= 3 and rng.random() < 0.2 else None
            created = base + timedelta(seconds=37 * serial)
            batch.append(
                NewComment(
                    author=f"{names[serial % len(names)]} {chr(65 + serial % 26)}.",
                    body=body,
                    html=html,
                    status=PUBLISHED,
                    parent=parent,
                    email=f"member{serial}@example.org" if serial % 4 == 0 else "",
                    client="127.0.0.0",
                    created=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
            )
        store.comments.add_many(slug, batch)
    return time.perf_counter() - started


def count_stored(data_dir: Path) -> int:
    from townsquare.storage import open_store
    from townsquare.storage.comments import STATUSES

    store = open_store(data_dir)
    # The listing method was renamed (list -> for_page); accept either.
    listing = getattr(store.comments, "for_page", None) or store.comments.list
    return sum(len(listing(p, statuses=STATUSES)) for p in store.comments.pages())


# --------------------------------------------------------------------------
# Running the product
# --------------------------------------------------------------------------


def tool(name: str) -> str:
    """The console script next to this Python (no pyenv shim in the timings)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"`{name}` is not installed: pip install -e . first.")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    env.update(extra)
    return env


class CpuWatch:
    """CPU time of the whole machine against our own children's, over a block.

    ``background_pct`` is the share of the machine's CPUs used by neither us,
    our waited-for children (wrk, townsquare publish, pelican), the given
    server, nor loopback networking (softirq): other programs, whose load
    makes the measurement less reliable.
    """

    def __enter__(self) -> CpuWatch:
        self._machine, self._softirq = self._ticks()
        self._children = self._children_ms()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.elapsed = time.perf_counter() - self._started
        machine, softirq = self._ticks()
        per_tick = 1000 / os.sysconf("SC_CLK_TCK")
        self.machine_ms = (machine - self._machine) * per_tick
        self.softirq_ms = (softirq - self._softirq) * per_tick
        self.children_ms = self._children_ms() - self._children

    def background_pct(self, other_own_ms: float = 0.0) -> float:
        capacity = self.elapsed * 1000 * (os.cpu_count() or 1)
        own = self.children_ms + self.softirq_ms + other_own_ms
        return max(0.0, 100 * (self.machine_ms - own) / capacity) if capacity else 0.0

    @staticmethod
    def _ticks() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
        return user + nice + system + irq + softirq + steal, softirq

    @staticmethod
    def _children_ms() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (usage.ru_utime + usage.ru_stime) * 1000


def run_timed(
    cmd: list[str], cwd: Path, timeout: float = 900
) -> tuple[float, str, float]:
    """Run a command; return its wall time, output and background CPU %."""
    with CpuWatch() as watch:
        done = subprocess.run(
            cmd,
            cwd=cwd,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {done.returncode}:\n{output[-3000:]}")
    return watch.elapsed, output, watch.background_pct()


def townsquare_cmd(case: Case, *args: str) -> list[str]:
    return [
        tool("townsquare"), "--site", str(case.site), "--data", str(case.data),
        "--output", str(case.output), *args,
    ]  # fmt: skip


# "Published: 1 page(s) with new comments, 6 file(s), in 0.06 s." or, in newer
# versions, "Published: exported 1 page(s) of comments, full build, in 3.01 s."
_PUBLISHED = re.compile(
    r"(?:Published|Built): [^\n]*?(\d+) page\(s\)[^\n]*?"
    r"(full build|\d+ file\(s\)), in ([\d.]+) s"
)


def publish(case: Case, *extra: str, command: str = "publish") -> dict[str, Any]:
    wall, output, background = run_timed(
        townsquare_cmd(case, command, *extra), cwd=case.dir
    )
    match = _PUBLISHED.search(output)
    if not match:
        raise BenchError(f"Unexpected publish output:\n{output[-2000:]}")
    problems = [line for line in output.splitlines() if "problem:" in line]
    return {
        "wall_s": wall,
        "reported_s": float(match.group(3)),
        "pages_exported": int(match.group(1)),
        "full_build": match.group(2) == "full build",
        "what": match.group(2),
        "problems": problems[:20],
        "problem_count": len(problems),
        "background_cpu_pct": background,
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Server:
    """`townsquare serve` on 127.0.0.1, stopped by its own PID."""

    def __init__(self, case: Case, cpus: str | None = None) -> None:
        self.case = case
        self.cpus = cpus
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = case.dir / "server.log"

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        cmd = townsquare_cmd(
            self.case,
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
        )
        if self.cpus:
            # Optional: pin the server to some CPUs (taskset keeps the PID).
            cmd = ["taskset", "-c", self.cpus, *cmd]
        env = clean_env(TOWNSQUARE_RATE_LIMIT_WRITES="10000000 per minute")
        with open(self.log_path, "wb") as log_file:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.case.dir,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"The server exited early; see {self.log_path}")
            try:
                with urllib.request.urlopen(
                    f"{self.base}/api/health", timeout=2
                ) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise BenchError("The server did not answer /api/health within 60 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def status(self) -> dict[str, int]:
        """VmHWM / VmRSS in kB, and CPU time in ms, from /proc."""
        assert self.proc is not None
        found: dict[str, int] = {}
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    found[line.split(":")[0]] = int(line.split()[1])
        with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        found["cpu_ms"] = int((int(fields[11]) + int(fields[12])) * 1000 / ticks)
        return found

    def warm_up(self, read_path: str, post_slug: str) -> None:
        """One read and one write, so first-request costs stay out of wrk's runs."""
        request = urllib.request.Request(
            f"{self.base}/api/pages/{post_slug}/comments",
            data=json.dumps({"author": "Warm-up", "body": "A first comment."}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            if reply.status != 201:
                raise BenchError(f"Warm-up POST answered {reply.status}")
        with urllib.request.urlopen(f"{self.base}{read_path}", timeout=10) as reply:
            body = json.loads(reply.read())
            if body.get("count") != READ_COMMENTS:
                raise BenchError(
                    f"Read topic has {body.get('count')} comments, not 100"
                )


def wrk(
    server: Server, threads: int, connections: int, seconds: float, args: list[str]
) -> dict[str, Any]:
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
        "--timeout", "5s", "-s", str(LUA), server.base, "--", *args,
    ]  # fmt: skip
    server_before = server.status()["cpu_ms"]
    with CpuWatch() as watch:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    server_ms = server.status()["cpu_ms"] - server_before
    if done.returncode != 0:
        raise BenchError(f"wrk failed: {done.stderr}")
    line = next(
        (x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None
    )
    if line is None:
        raise BenchError(f"wrk printed no BENCH_JSON line:\n{done.stdout}")
    raw = json.loads(line[len("BENCH_JSON ") :])
    non2xx3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(
        raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    capacity_ms = watch.elapsed * 1000 * (os.cpu_count() or 1)
    return {
        "connections": connections,
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds_run if seconds_run else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "non2xx": raw["non2xx"],
        "wrk_non2xx_or_3xx": int(non2xx3xx.group(1)) if non2xx3xx else 0,
        "socket_errors": errors,
        "server_cpu_ms_per_request": server_ms / raw["requests"]
        if raw["requests"]
        else None,
        "server_cpu_pct": 100 * server_ms / capacity_ms,
        "wrk_cpu_pct": 100 * watch.children_ms / capacity_ms,
        "background_cpu_pct": watch.background_pct(server_ms),
        "wrk_output": done.stdout,
    }


def summarise_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over repeated runs; error counts are summed."""
    summary: dict[str, Any] = {"runs": len(runs)}
    for key, value in runs[0].items():
        if key in ("non2xx", "wrk_non2xx_or_3xx", "socket_errors", "requests"):
            summary[key] = sum(r[key] for r in runs)
        elif key == "background_cpu_pct":
            summary[key] = max(r[key] for r in runs)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            summary[key] = statistics.median(r[key] for r in runs)
    summary["rps_all"] = [round(r["rps"], 1) for r in runs]
    return summary


# --------------------------------------------------------------------------
# The phases
# --------------------------------------------------------------------------


def run_case(
    case: Case,
    slugs: list[str],
    variants: list[tuple[str, str]],
    master_site: Path,
    seconds: float,
    repeats: int,
    server_cpus: str | None = None,
) -> None:
    shutil.copytree(master_site, case.site)
    make_plan(case, slugs)
    seeded = sum(case.plan.values())
    log(f"[{case.name}] seeding {seeded:,} comments")
    case.results["comments_seeded"] = seeded
    case.results["loadavg_at_start"] = os.getloadavg()
    case.results["seed_s"] = seed_store(case, variants)
    log(f"[{case.name}] seeded in {case.results['seed_s']:.1f} s; first publish")
    first = publish(case)
    case.results["full_publish"] = first
    if not first["full_build"]:
        raise BenchError("The first publish of a new site was not a full build")
    log(f"[{case.name}] published in {first['wall_s']:.1f} s; starting the server")

    slugs_file = case.dir / "post-slugs.txt"
    slugs_file.write_text("\n".join(case.post_slugs) + "\n", encoding="utf-8")
    read_path = f"/api/pages/{case.read_slug}/comments"
    server = Server(case, server_cpus)
    runs: dict[str, list[dict[str, Any]]] = {}
    try:
        server.start()
        server.warm_up(read_path, case.post_slugs[0])
        origin = server.base
        specs = [
            ("post_c1", 1, 1, ["post", str(slugs_file), origin]),
            ("post_c10", 2, 10, ["post", str(slugs_file), origin]),
            ("get_c10", 2, 10, ["get", read_path]),
        ]
        for repeat in range(repeats):
            # The health check once: the ceiling of the HTTP stack on this machine.
            extra = (
                [("health_c10", 2, 10, ["get", "/api/health"])] if repeat == 0 else []
            )
            for key, threads, conns, args in specs + extra:
                r = wrk(server, threads, conns, seconds, args)
                runs.setdefault(key, []).append(r)
                log(
                    f"[{case.name}] {key} #{repeat + 1}: {r['rps']:.0f} req/s, "
                    f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                    f"non-2xx {r['non2xx']}, errors {r['socket_errors']}, "
                    f"background CPU {r['background_cpu_pct']:.0f}%"
                )
        case.results["http"] = {
            key: summarise_runs(value) for key, value in runs.items()
        }
        case.results["http_runs"] = runs
        case.results["server_memory"] = server.status()
    finally:
        server.stop()
    text = server.log_path.read_text(encoding="utf-8", errors="replace")
    case.results["server_log_errors"] = text.count(" ERROR ") + text.count("Traceback")
    acknowledged = 1 + sum(  # 1: the warm-up comment
        r["requests"] - r["non2xx"]
        for key, value in runs.items()
        if key.startswith("post")
        for r in value
    )
    case.results["acknowledged_writes"] = acknowledged
    case.results["stored_total"] = count_stored(case.data)
    case.results["stored_new"] = case.results["stored_total"] - seeded
    if case.results["stored_new"] < acknowledged:
        raise BenchError(
            f"[{case.name}] the store holds {case.results['stored_new']} new comments "
            f"but the server acknowledged {acknowledged}"
        )


def write_plain_conf(case: Case) -> Path:
    plain_conf = case.site / "pelicanconf_plain.py"
    plain_conf.write_text(
        (case.site / "pelicanconf.py").read_text(encoding="utf-8")
        + "\n# Benchmark baseline: plain Pelican, default theme, no plugin.\n"
        "PLUGINS = []\ndel THEME\ndel JINJA_ENVIRONMENT\n",
        encoding="utf-8",
    )
    return plain_conf


def full_vs_plain(case: Case, rounds: int) -> dict[str, Any]:
    """`townsquare publish --full` against plain Pelican on the same content.

    `townsquare build` (a full Pelican build from the comments already
    exported, without exporting) is timed too, to tell export from build.
    """
    plain_conf = write_plain_conf(case)
    fulls, builds, plains, backgrounds = [], [], [], []
    for n in range(rounds):
        result = publish(case, "--full")
        fulls.append(result)
        built = publish(case, command="build")
        builds.append(built)
        out2 = case.dir / f"plain-output-{n}"
        wall, output, background = run_timed(
            [tool("pelican"), "content", "-o", str(out2), "-s", str(plain_conf)],
            cwd=case.site,
        )
        plains.append(wall)
        backgrounds += [
            result["background_cpu_pct"],
            built["background_cpu_pct"],
            background,
        ]
        if n == 0:
            articles = len(list((out2 / "topics").glob("*/index.html")))
            if articles != N_TOPICS:
                raise BenchError(
                    f"Plain Pelican wrote {articles} topic pages:\n{output}"
                )
        shutil.rmtree(out2, ignore_errors=True)
        log(
            f"[{case.name}] publish --full {result['wall_s']:.2f} s, "
            f"build {built['wall_s']:.2f} s, plain Pelican {wall:.2f} s"
        )
    best_full = min(r["wall_s"] for r in fulls)
    return {
        "case": case.name,
        "full_runs_s": [r["wall_s"] for r in fulls],
        "full_reported_s": [r["reported_s"] for r in fulls],
        "full_problems": fulls[0]["problem_count"],
        "build_runs_s": [r["wall_s"] for r in builds],
        "build_wall_s": min(r["wall_s"] for r in builds),
        "build_ratio": min(r["wall_s"] for r in builds) / min(plains),
        "plain_runs_s": plains,
        "full_wall_s": best_full,
        "plain_pelican_wall_s": min(plains),
        "ratio": best_full / min(plains),
        "background_cpu_pct_max": max(backgrounds),
    }


def run_publishing(case: Case, rounds: int, plain_rounds: int) -> dict[str, Any]:
    from townsquare.storage import open_store
    from townsquare.storage.comments import PUBLISHED, NewComment

    found: dict[str, Any] = {"case": case.name}
    log(f"[{case.name}] publishing what the load test posted")
    found["catch_up"] = publish(case)

    singles = []
    rng = random.Random(99)
    store = open_store(case.data)
    for n in range(rounds):
        # Never the read topic (it keeps its 100 comments) nor the busy one.
        slug = rng.choice(topic_slugs()[2:] if case.busy else case.post_slugs)
        store.comments.add(
            slug,
            NewComment(
                author="Single Sam",
                body=f"One more comment, number {n}.",
                html=f"<p>One more comment, number {n}.</p>",
                status=PUBLISHED,
            ),
        )
        result = publish(case)
        result["slug"] = slug
        singles.append(result)
        log(
            f"[{case.name}] one-comment publish: {result['wall_s']:.2f} s "
            f"({result['what']})"
        )
    found["one_comment"] = singles
    found["one_comment_wall_s"] = statistics.median(r["wall_s"] for r in singles)
    found["one_comment_reported_s"] = statistics.median(
        r["reported_s"] for r in singles
    )
    found["one_comment_incremental"] = all(
        not r["full_build"] and r["pages_exported"] == 1 for r in singles
    )
    found["full_vs_plain"] = full_vs_plain(case, plain_rounds)
    return found


def page_weight(case: Case) -> dict[str, Any]:
    page = case.output / "topics" / case.read_slug / "index.html"
    css = case.output / "theme" / "css" / "main.css"
    script = case.output / "theme" / "js" / "comments.js"
    html = page.read_bytes()
    count = html.count(b'class="comment" id="comment-')
    sizes = {
        "page": len(html),
        "main_css": css.stat().st_size,
        "comments_js": script.stat().st_size,
    }
    return {
        "topic": case.read_slug,
        "comments_on_page": count,
        **{f"{k}_bytes": v for k, v in sizes.items()},
        "total_bytes": sum(sizes.values()),
        "page_gzip_bytes": len(gzip.compress(html, 9)),
        "comments_js_gzip_bytes": len(gzip.compress(script.read_bytes(), 9)),
    }


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("ok" if ok else "MISS")


def report(results: dict[str, Any]) -> str:
    cases = results["cases"]
    names = list(cases)
    lines = []
    head = f"{'':38}" + "".join(f"{n:>10}" for n in names) + f"  {'target':<12}verdict"
    lines.append(head)
    lines.append("-" * len(head))

    def row(
        label: str, get: Any, digits: int = 1, target: str = "", check: Any = None
    ) -> None:
        values = []
        for name in names:
            try:
                values.append(get(cases[name]))
            except (KeyError, TypeError, ZeroDivisionError):
                values.append(None)
        cells = "".join(f"{fmt(v, digits):>10}" for v in values)
        mark = ""
        if check is not None:
            misses = [
                n
                for n, v in zip(names, values, strict=True)
                if v is not None and not check(v)
            ]
            mark = "ok" if not misses else "MISS " + ",".join(misses)
        lines.append(f"{label:<38}{cells}  {target:<12}{mark}".rstrip())

    def http(key: str, field_name: str) -> Any:
        return lambda c: c["http"][key][field_name]

    t = TARGETS
    row("comments seeded", lambda c: c["comments_seeded"])
    row("seeding via repository, s", lambda c: c["seed_s"])
    row("first publish (full build), s", lambda c: c["full_publish"]["wall_s"])
    row("POST, 1 conn: requests/s", http("post_c1", "rps"), 0)
    row(
        "POST, 1 conn: p50 ms",
        http("post_c1", "p50_ms"),
        2,
        "< 3",
        lambda v: v < t["write_p50_ms_c1"],
    )
    row("POST, 1 conn: p99 ms", http("post_c1", "p99_ms"), 2)
    row(
        "POST, 10 conn: requests/s",
        http("post_c10", "rps"),
        0,
        ">= 500",
        lambda v: v >= t["write_rps_c10"],
    )
    row("POST, 10 conn: p50 ms", http("post_c10", "p50_ms"), 2)
    row(
        "POST, 10 conn: p99 ms",
        http("post_c10", "p99_ms"),
        2,
        "< 50",
        lambda v: v < t["write_p99_ms_c10"],
    )
    row(
        "POST non-2xx responses (all runs)",
        lambda c: c["http"]["post_c1"]["non2xx"] + c["http"]["post_c10"]["non2xx"],
        0,
        "0",
        lambda v: v == 0,
    )
    row(
        "POST socket errors/timeouts",
        lambda c: (
            c["http"]["post_c1"]["socket_errors"]
            + c["http"]["post_c10"]["socket_errors"]
        ),
        0,
        "0",
        lambda v: v == 0,
    )
    row(
        "server CPU per POST (10 conn), ms",
        http("post_c10", "server_cpu_ms_per_request"),
        2,
    )
    row(
        "GET 100-comment list, 10 conn: req/s",
        http("get_c10", "rps"),
        0,
        ">= 2000",
        lambda v: v >= t["read_rps_c10"],
    )
    row("GET, 10 conn: p50 ms", http("get_c10", "p50_ms"), 2)
    row(
        "GET, 10 conn: p99 ms",
        http("get_c10", "p99_ms"),
        2,
        "< 10",
        lambda v: v < t["read_p99_ms_c10"],
    )
    row(
        "GET non-2xx + socket errors",
        lambda c: (
            c["http"]["get_c10"]["non2xx"] + c["http"]["get_c10"]["socket_errors"]
        ),
        0,
        "0",
        lambda v: v == 0,
    )
    row("server CPU per GET, ms", http("get_c10", "server_cpu_ms_per_request"), 2)
    row("GET /api/health, 10 conn: req/s", http("health_c10", "rps"), 0)
    row(
        "server peak memory (VmHWM), MB",
        lambda c: c["server_memory"]["VmHWM"] / 1024,
        1,
    )
    row("server log errors", lambda c: c["server_log_errors"], 0, "0", lambda v: v == 0)
    row(
        "writes stored minus acknowledged",
        lambda c: c["stored_new"] - c["acknowledged_writes"],
        0,
        ">= 0",
        lambda v: v >= 0,
    )
    row(
        "background CPU (others), max %",
        lambda c: max(r["background_cpu_pct"] for r in c["http"].values()),
        0,
        "(noise)",
    )

    def line(
        label: str,
        value: Any,
        target: str = "",
        ok: bool | None = None,
        digits: int = 2,
    ) -> None:
        lines.append(
            f"{label:<48}{fmt(value, digits):>10}  {target:<12}{verdict(ok)}".rstrip()
        )

    lines.append("")
    small, large = results.get("scaling_cases", ("1k", "100k"))
    if small in cases and large in cases:
        for key, label in (("post_c10", "10 conn"), ("post_c1", "1 conn")):
            ratio = cases[small]["http"][key]["rps"] / cases[large]["http"][key]["rps"]
            line(
                f"POST rate {small} / rate {large} ({label})",
                ratio,
                "<= 1.5",
                ratio <= t["write_scaling"],
            )

    pub = results.get("publishing")
    if pub:
        lines.append(f"Publishing (1,000-topic site, {pub['case']} store):")
        line(
            "  one-comment publish, s (wall, median)",
            pub["one_comment_wall_s"],
            "< 1",
            pub["one_comment_wall_s"] < t["one_comment_publish_s"],
        )
        line("    as the command reports it, s", pub["one_comment_reported_s"])
        line(
            "    incremental, one page exported",
            "yes" if pub["one_comment_incremental"] else "NO",
            "yes",
            pub["one_comment_incremental"],
        )
        catch = pub["catch_up"]
        line(
            f"  publish after load test ({catch['pages_exported']} pages), s",
            catch["wall_s"],
        )
    for name, comparison in results.get("full_vs_plain", {}).items():
        lines.append(
            f"Full build against plain Pelican ({name} store, best of "
            f"{len(comparison['plain_runs_s'])}):"
        )
        line("  townsquare publish --full, s", comparison["full_wall_s"])
        line(
            "  plain pelican (notmyidea, no plugin), s",
            comparison["plain_pelican_wall_s"],
        )
        line(
            "  publish --full / plain pelican",
            comparison["ratio"],
            "<= 1.2",
            comparison["ratio"] <= t["full_vs_pelican"],
        )
        line("  townsquare build (no export), s", comparison["build_wall_s"])
        line("  build / plain pelican", comparison["build_ratio"])
        line(
            "  background CPU (others) in these runs, max %",
            comparison["background_cpu_pct_max"],
            "(noise)",
            digits=0,
        )
    weight = results.get("page_weight")
    if weight:
        lines.append("Page weight:")
        line(
            f"  topic page with {weight['comments_on_page']} comments, bytes",
            weight["page_bytes"],
        )
        line(
            "  page + main.css + comments.js, bytes",
            weight["total_bytes"],
            "< 102,400",
            weight["total_bytes"] < t["page_bytes"],
        )
        line(
            "  comments.js gzip -9, bytes",
            weight["comments_js_gzip_bytes"],
            "< 10,240",
            weight["comments_js_gzip_bytes"] < t["script_gzip_bytes"],
        )
        line("  topic page gzip -9, bytes", weight["page_gzip_bytes"])
    noise = background_max(results)
    if noise > NOISY_BACKGROUND_PCT:
        lines.append("")
        lines.append(
            f"WARNING: other programs used up to {noise:.0f}% of the machine's CPU "
            "during some measurements (see 'background CPU'); those figures are "
            "pessimistic. Run again on a quiet machine."
        )
    return "\n".join(lines)


def background_max(results: dict[str, Any]) -> float:
    found = [0.0]
    for case in results["cases"].values():
        found += [r["background_cpu_pct"] for r in case.get("http", {}).values()]
    for comparison in results.get("full_vs_plain", {}).values():
        found.append(comparison["background_cpu_pct_max"])
    pub = results.get("publishing", {})
    found += [r["background_cpu_pct"] for r in pub.get("one_comment", [])]
    return max(found)


def environment() -> dict[str, Any]:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    versions: dict[str, str | None] = {}
    for name in ("pelican", "flask", "waitress", "tinydb", "jinja2", "markdown", "nh3"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "wrk": (wrk_version.stdout + wrk_version.stderr).splitlines()[0],
        "packages": versions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="Shorter run, about 2 minutes."
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the temporary folder."
    )
    parser.add_argument("--tmp", help="Parent folder for the temporary folder.")
    parser.add_argument(
        "--seconds", type=float, help="Seconds per wrk run (5, or 2 quick)."
    )
    parser.add_argument(
        "--repeats", type=int, help="wrk runs per measure (3, or 1 quick)."
    )
    parser.add_argument(
        "--server-cpus",
        help="Pin the server to these CPUs with taskset, e.g. 0 (default: no pinning).",
    )
    parser.add_argument(
        "--output",
        default=str(RESULTS / "latest.json"),
        help="Where to write the JSON results.",
    )
    options = parser.parse_args()

    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed (apt-get install wrk).")
    quick = options.quick
    seconds = options.seconds or (2.0 if quick else 5.0)
    repeats = options.repeats or (1 if quick else 3)
    singles, plain_rounds = (3, 1) if quick else (5, 3)
    case_list = [
        Case("1k", 1),
        Case("10k", 10),
        Case("100k", 100),
        Case("busy", 10, busy=True),
    ]

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="townsquare-bench-", dir=options.tmp))
    log(f"working in {tmp}; load average {os.getloadavg()[0]:.2f}")
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "wrk_seconds": seconds,
        "wrk_repeats": repeats,
        "server_cpus": options.server_cpus,
        "environment": environment(),
        "targets": TARGETS,
        "scaling_cases": ("1k", "100k"),
        "cases": {},
        "full_vs_plain": {},
    }
    output = Path(options.output)
    try:
        master = tmp / "master-site"
        t0 = time.perf_counter()
        slugs = generate_site(master)
        variants = comment_variants()
        results["site_generation_s"] = time.perf_counter() - t0
        log(f"generated {len(slugs)} topics in {results['site_generation_s']:.1f} s")
        for case in case_list:
            case.dir = tmp / f"case-{case.name}"
            case.dir.mkdir()
            run_case(
                case, slugs, variants, master, seconds, repeats, options.server_cpus
            )
            results["cases"][case.name] = case.results
            if case.name == "10k":
                results["full_vs_plain"]["10k"] = full_vs_plain(case, plain_rounds)
            if case.name == "100k":
                results["page_weight"] = page_weight(case)
                results["publishing"] = run_publishing(case, singles, plain_rounds)
                results["full_vs_plain"]["100k"] = results["publishing"][
                    "full_vs_plain"
                ]
            if not options.keep:
                shutil.rmtree(case.dir, ignore_errors=True)
    finally:
        results["total_s"] = time.perf_counter() - started
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(
            json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8"
        )
        if options.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"Townsquare benchmark ({results['mode']}: "
        f"wrk {seconds:g} s x {repeats}, medians; "
        f"{os.cpu_count()} CPUs shared with wrk"
        + (
            f"; server pinned to CPUs {options.server_cpus}"
            if options.server_cpus
            else ""
        )
        + f"; {results['total_s']:.0f} s in all)\n"
    )
    print(report(results))
    print(f"\nJSON: {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
