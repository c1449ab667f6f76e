from pathlib import Path

from qtui.config.load import load_model
from qtui.config.pricing import PriceTable
from qtui.live.filewatch import FileWatch, changed_line


def read(p: Path) -> object:
    return load_model(p, PriceTable)


def test_each_edit_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[table]\nprovider = "x"\n')
    said: list[str] = []
    watch = FileWatch({path: read}, said.append).start()
    watch.stop()  # checked by hand below, not by its thread
    watch.check()
    assert said == []  # unchanged since the start
    path.write_text('[table]\nprovider = "half-saved\n')
    watch.check()
    watch.check()
    assert len(said) == 1 and said[0].startswith(f"{path}: malformed TOML")
    assert said[0].endswith(
        "; qtui goes on with what it read at the start: fix the file before the next start"
    )
    path.unlink()
    watch.check()
    assert said[1].startswith(f"{path}: file not found; qtui goes on with what it read")
    assert changed_line(path, lambda p: None) == (
        f"{path} changed; qtui goes on with what it read at the start: "
        "start qtui again to use the edit"
    )
