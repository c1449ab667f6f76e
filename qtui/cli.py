"""The `qtui` command line: one subcommand per job, one-line errors with exit code 2."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click

from qtui import __version__
from qtui.errors import BENCH_EXIT_CODES, ConfigError, NotBuiltYet, QtuiError


class QtuiGroup(click.Group):
    """Turns QtuiError into one line on stderr and its exit code; --debug shows the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QtuiError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            click.echo(f"qtui: error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=QtuiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qtui")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """qtui: how much numerical precision does your LLM deployment really need?

    Compare vLLM servers of one model at different precisions (BF16, FP8, INT8, INT4...)
    side by side under load: latency, throughput, GPU memory, quality and cost.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _not_built(what: str, issue: str) -> Callable[..., None]:
    def fail(**_: Any) -> None:
        raise NotBuiltYet(f"{what} is not built yet ({issue}); nothing was run")

    return fail


def _profile_arg(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("profile", type=click.Path(path_type=Path))(f)


@cli.command()
@click.option(
    "--profile", type=click.Path(path_type=Path), help="Simulated profile (default: demo)."
)
@click.option(
    "--record",
    type=click.Path(path_type=Path),
    help="Session file to record into (default: sessions/<profile>-<time>.qtsession).",
)
@click.option("--no-record", is_flag=True, help="Do not record a session file.")
def demo(**kw: Any) -> None:
    """Start the built-in simulator and the app on it, with a moderate load (no GPU needed)."""
    from qtui.commands import demo as impl

    impl.run(**kw)


@cli.command()
@_profile_arg
@click.option("--launch", is_flag=True, help="Start the profile's vLLM servers first (qtui[vllm]).")
@click.option(
    "--record",
    type=click.Path(path_type=Path),
    help="Session file to record into (default: sessions/<profile>-<time>.qtsession).",
)
@click.option("--no-record", is_flag=True, help="Do not record a session file.")
def run(**kw: Any) -> None:
    """Open the app attached to the endpoints in PROFILE."""
    from qtui.commands import run as impl

    impl.run(**kw)


@cli.command()
@_profile_arg
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("qtui-out"),
    show_default=True,
    help="Directory for records (CSV/Parquet), series, summary JSON and the session.",
)
@click.option(
    "--mode", type=click.Choice(["concurrency", "rate", "sweep"]), help="Override load mode."
)
@click.option("--level", type=float, help="Concurrency (closed loop) or req/s (open loop).")
@click.option("--duration", type=float, help="Seconds per run (or per sweep step).")
@click.option("--max-requests", type=int, help="Hard limit on requests sent.")
@click.option(
    "--processes",
    type=click.IntRange(1, 256),
    help="Load worker processes (default: [load] processes, else chosen from the load).",
)
@click.option("--quality", is_flag=True, help="Also run the golden set and agreement checks.")
@click.option(
    "--lmeval",
    metavar="TASK",
    help="Run this lm-evaluation-harness task instead of the golden set (qtui[lmeval]).",
)
@click.option(
    "--lmeval-include",
    type=click.Path(path_type=Path),
    help="Directory of your own lm-eval task YAMLs (with --lmeval).",
)
@click.option("--lmeval-limit", type=click.IntRange(1), help="At most N documents of the task.")
@click.option(
    "--lmeval-tokenizer",
    metavar="NAME",
    help="Hugging Face tokenizer for log-likelihood (multiple-choice) tasks (with --lmeval).",
)
@click.option("--launch", is_flag=True, help="Start the profile's vLLM servers first (qtui[vllm]).")
def bench(**kw: Any) -> None:
    """Run PROFILE headless: load, measurements, JSON/CSV results and a session file."""
    from qtui.commands import bench as impl

    impl.run(**kw)


bench.help = (
    f"{bench.help}\n\n\b\nExit codes (what was recorded is kept in every case):\n"
    + "\n".join(f"  {c}  {what}" for c, what in BENCH_EXIT_CODES)
)


@cli.command()
@click.option(
    "--profile", type=click.Path(path_type=Path), help="Profile with [endpoints.simulate]."
)
@click.option("--port", type=int, default=0, help="First port (0: pick free ports).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--golden",
    type=click.Path(path_type=Path),
    help="Golden set (JSONL) whose answers the endpoints give (default: the profile's).",
)
def sim(**kw: Any) -> None:
    """Serve simulated vLLM endpoints on 127.0.0.1 until Ctrl-C."""
    from qtui.commands import sim as impl

    impl.run(**kw)


@cli.command()
@click.argument("url")
@click.option("--timeout", type=float, default=5.0, show_default=True)
def scrape(**kw: Any) -> None:
    """Print one parsed /metrics snapshot of a vLLM server as JSON."""
    from qtui.commands import scrape as impl

    impl.run(**kw)


@cli.command()
@click.argument("session", type=click.Path(path_type=Path), nargs=-1, required=True)
@click.option("--speed", type=float, default=1.0, show_default=True, help="1 to 60.")
def replay(**kw: Any) -> None:
    """Open the app on recorded SESSION file(s): no network, no GPU."""
    from qtui.commands import replay as impl

    impl.run(**kw)


@cli.command()
@click.argument("session", type=click.Path(path_type=Path), nargs=-1, required=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("."), show_default=True)
def report(**kw: Any) -> None:
    """Write the decision record (Markdown, HTML, CSV) of SESSION(s); several are compared."""
    from qtui.commands import report as impl

    impl.run(**kw)


@cli.group(cls=QtuiGroup)
def trace() -> None:
    """Traces for kind = "trace" workloads: from a session, converted, rescaled, described."""


_SCALE = [
    click.option(
        "--speed",
        type=float,
        default=1.0,
        show_default=True,
        help="Time compression (2 = twice as fast).",
    ),
    click.option(
        "--rate",
        type=float,
        default=1.0,
        show_default=True,
        help="Request-rate multiplier over the same span (0.5 = half the requests).",
    ),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of --rate's draws."),
]


def _scale_options(f: Any) -> Any:
    for opt in reversed(_SCALE):
        f = opt(f)
    return f


@trace.command("from-session")
@click.argument("session", type=click.Path(path_type=Path))
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), required=True, help="Trace file to write."
)
@click.option("--endpoint", help="Whose requests (default: the baseline; all saw the same load).")
@_scale_options
def trace_from_session(**kw: Any) -> None:
    """Write the requests a recorded SESSION sent as a trace (replay a measured day); a
    multi-turn run's turns stay conversations (conversation, turn, think_s)."""
    from qtui.commands.trace import from_session

    click.echo(f"wrote {from_session(**kw)}")


@trace.command("convert")
@click.argument("src", type=click.Path(path_type=Path))
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), required=True, help="Trace file to write."
)
@_scale_options
def trace_convert(**kw: Any) -> None:
    """Check a trace (qtui's or Mooncake's JSONL) and write it in qtui's format, rescaled."""
    from qtui.commands.trace import convert

    click.echo(f"wrote {convert(**kw)}")


@trace.command("sharegpt")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Prompt file.")
@click.option(
    "--output-tokens", type=click.IntRange(min=1), help="Fixed max_tokens (default: the answer's)."
)
def trace_sharegpt(**kw: Any) -> None:
    """Write a ShareGPT-style conversation file as a JSONL prompt file (first human turns)."""
    from qtui.commands.trace import sharegpt

    click.echo(f"wrote {sharegpt(**kw)}")


@trace.command("show")
@click.argument("src", type=click.Path(path_type=Path))
def trace_show(src: Path) -> None:
    """Check a trace file and say what it holds: requests, span, rates, lengths."""
    from qtui.commands.trace import show

    click.echo(show(src))


@cli.group(cls=QtuiGroup)
def pricing() -> None:
    """List and show price tables."""


@pricing.command("list")
@click.option(
    "--dir",
    "dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra directory of your own tables (also QTUI_PRICING_DIR).",
)
def pricing_list(dirs: tuple[Path, ...]) -> None:
    """List the price tables qtui can use, with source and as-of date."""
    from qtui.config.catalog import list_price_tables, load_price_table

    for name, path in list_price_tables(list(dirs)).items():
        t = load_price_table(str(path)).table
        click.echo(
            f"{name:12} {t.provider:14} {len(load_price_table(str(path)).rows):3} rows  "
            f"as of {t.as_of}  {path}"
        )


@pricing.command("save")
@click.argument("base")
@click.option("--gpu", required=True, help="GPU type whose price you set (e.g. H100).")
@click.option("--price", type=float, required=True, help="Your price in $ per GPU-hour.")
@click.option(
    "--category",
    type=click.Choice(["on-demand", "spot", "committed"]),
    default="on-demand",
    show_default=True,
)
@click.option("--discount", type=float, default=0.0, help="Committed discount in % (committed).")
@click.option("--name", help="Name of the new table (default: BASE-user-<time>).")
@click.option(
    "--dir", "directory", type=click.Path(path_type=Path), help="Default: the user pricing dir."
)
def pricing_save(**kw: Any) -> None:
    """Save your price for one GPU as a new table based on BASE (never edits BASE)."""
    from qtui.commands.pricing_save import run as impl

    click.echo(f"saved {impl(**kw)}")


@pricing.command("show")
@click.argument("table")
@click.option("--dir", "dirs", multiple=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pricing_show(table: str, dirs: tuple[Path, ...], as_json: bool) -> None:
    """Show one price table's rows in $/hour and $/GPU-hour."""
    from qtui.config.catalog import load_price_table

    t = load_price_table(table, list(dirs))
    if as_json:
        click.echo(json.dumps(t.model_dump(), indent=2))
        return
    click.echo(
        f"{t.table.provider} ({t.table.region}) — source: {t.table.source}; as of {t.table.as_of}"
    )
    click.echo(
        f"{'GPU':10} {'instance':32} {'GPUs':>4} {'on-demand $/h':>14} "
        f"{'$/GPU-h':>8} {'spot $/h':>9} {'$/GPU-h':>8}"
    )
    for r in t.rows:
        od, sp = r.on_demand_usd_per_hour, r.spot_usd_per_hour
        odg, spg = r.usd_per_gpu_hour("on-demand"), r.usd_per_gpu_hour("spot")
        click.echo(
            f"{r.gpu:10} {r.instance[:32]:32} {r.gpus_per_instance:>4} "
            f"{_money(od):>14} {_money(odg):>8} {_money(sp):>9} {_money(spg):>8}"
        )
    for note in t.table.notes:
        click.echo(f"  note: {note}")


def _money(v: float | None) -> str:
    return "—" if v is None else f"{v:,.3f}"


@cli.group(cls=QtuiGroup)
def golden() -> None:
    """Golden sets: generated, verifiable items big enough for a quality verdict to be decided."""


@golden.command("generate")
@click.option("-n", "n", type=int, required=True, help="How many items (at least 1).")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same items.")
@click.option(
    "--task",
    "tasks",
    multiple=True,
    help="Task type, repeatable (default: all, in turn): arithmetic, date, units, extraction, "
    "classification, choice.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="JSONL file to write (default: stdout)."
)
def golden_generate(n: int, seed: int, tasks: tuple[str, ...], output: Path | None) -> None:
    """Write N deterministic golden items (each answer checked by its own checker) as JSONL."""
    from qtui.quality.generate import generate, to_jsonl

    text = to_jsonl(generate(n, seed=seed, tasks=tasks or None))
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{output}: {n} golden items (seed {seed})", err=True)


@golden.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["evals", "csv"]),
    help="evals: OpenAI-evals JSONL (input, ideal); csv: prompt,expected (default: by suffix).",
)
@click.option(
    "--check",
    "check_kind",
    type=click.Choice(["exact", "normalized", "contains", "numeric", "choice"]),
    default="normalized",
    show_default=True,
    help="How an answer is checked (a CSV 'check' column overrides it per row).",
)
@click.option("--tag", "tags", multiple=True, help="key:value tag on every item, repeatable.")
@click.option("--max-tokens", type=int, default=64, show_default=True, help="Token budget.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="JSONL file to write (default: stdout)."
)
def golden_import(
    file: Path,
    fmt: str | None,
    check_kind: str,
    tags: tuple[str, ...],
    max_tokens: int,
    output: Path | None,
) -> None:
    """Convert an OpenAI-evals JSONL or a prompt,expected CSV into a golden set."""
    from qtui.quality.importers import CheckKind, Format, import_file, to_jsonl

    pairs = {}
    for t in tags:
        if ":" not in t:
            raise ConfigError(f"--tag {t!r}: write it as key:value (e.g. risk:high)")
        k, v = t.split(":", 1)
        pairs[k] = v
    kind = cast(CheckKind, check_kind)
    items = import_file(file, cast(Format | None, fmt), check=kind, tags=pairs or None,
                        max_tokens=max_tokens)  # fmt: skip
    text = to_jsonl(items)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{output}: {len(items)} golden items from {file}", err=True)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path), nargs=-1, required=True)
def check(file: tuple[Path, ...]) -> None:
    """Validate profiles, price tables or session files."""
    from qtui.commands.check import check_file

    for f in file:
        click.echo(check_file(f))


def main() -> None:
    cli(prog_name="qtui")
