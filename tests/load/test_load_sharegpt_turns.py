"""A ShareGPT file as the multi-turn workload (``kind = "sharegpt"``): every human turn, the
recorded answers' lengths, bad input naming file, line and field; sent over a real socket."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from chatserver import ChatServer, chat_server

from qtui.config.profile import LengthDist, Profile, Workload
from qtui.errors import ConfigError
from qtui.evidence.records import RequestRecord
from qtui.load.conversation import FileConversations
from qtui.load.engine import LoadRun
from qtui.load.sharegpt import read_conversations

CONVS = [
    {"conversations": [
        {"from": "human", "value": "Hi there"}, {"from": "gpt", "value": "x" * 41},
        {"from": "human", "value": "And then?"}, {"from": "gpt", "value": "y" * 80},
        {"from": "human", "value": "Thanks"}, {"from": "gpt", "value": "ok"},
    ]},
    {"conversations": [{"from": "gpt", "value": "no question"}]},
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q?"},
                  {"role": "assistant", "content": "abcdefgh"}]},
]  # fmt: skip


def wl(**kw: object) -> Workload:
    return Workload.model_validate(
        {"kind": "sharegpt", "api": "chat", "conversations_file": "sg.json", "turns": 8, **kw}
    )


def write(tmp_path: Path, text: str, name: str = "sg.json") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path / name


def test_every_human_turn_with_its_recorded_answers_length(tmp_path: Path) -> None:
    convs, skipped = read_conversations(write(tmp_path, json.dumps(CONVS, indent=1)), wl())
    assert skipped == 1  # the one with no human turn
    first, third = convs
    # answers of 41, 80 and 2 characters: 10, 20 and (at least) 1 tokens
    assert [(t.text, t.max_tokens) for t in first.turns] == [
        ("Hi there", 10), ("And then?", 20), ("Thanks", 1),
    ]  # fmt: skip
    assert [t.input_tokens for t in first.turns] == [2, 2, 1]  # 8, 9, 6 characters / 4, ≥ 1
    assert third.system == "Be brief." and [t.text for t in third.turns] == ["Q?"]
    two, _ = read_conversations(tmp_path / "sg.json", wl(turns=2))
    assert len(two[0].turns) == 2
    fixed, _ = read_conversations(
        tmp_path / "sg.json", wl(answer_lengths="fixed", output_tokens=LengthDist(mean=64))
    )
    assert [t.max_tokens for t in fixed[0].turns] == [64, 64, 64]


def test_turns_past_the_context_are_left_out(tmp_path: Path) -> None:
    write(tmp_path, json.dumps(CONVS))
    # turn 1: 2 + 10 + 8 template = 20 tokens; turn 2 adds 2 + 20 + 8 = 50 in all
    convs = FileConversations(tmp_path / "sg.json", wl(), max_model_len=49)
    assert [len(c.turns) for c in convs.items] == [1, 1] and convs.mean_turns == 1.0
    with pytest.raises(ConfigError, match=r"sg\.json: no conversation fits max_model_len 5"):
        FileConversations(tmp_path / "sg.json", wl(), max_model_len=5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"conversations": []}\n{oops\n', r"sg\.json:2: not a JSON object; nothing sent"),
        ('{"conversations": []}\n\n[1]\n', r"sg\.json:3: not a JSON object; nothing sent"),
        ('{"id": 1}\n', r"sg\.json:1: conversations: missing or not a list of turns"),
        (
            '[\n {"conversations": []},\n {"conversations": [{"from": "human", "value": 3}]}\n]',
            r"sg\.json:3: conversations\[0\]\.value: expected a string; nothing sent",
        ),
        (
            '{"messages": [{"role": "user", "content": "q"}, {"content": "a"}]}\n',
            r"sg\.json:1: messages\[1\]\.role: expected a string; nothing sent",
        ),
        ('[{"conversations": []}, {"conversations": [}]', r"sg\.json:1: not valid JSON"),
        ('{"conversations": []}\n', r"sg\.json: no conversation .* \(1 skipped\); nothing sent"),
    ],
)
def test_bad_input_is_one_line_naming_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected) as err:
        read_conversations(write(tmp_path, text), wl())
    assert "\n" not in str(err.value)


async def test_a_sharegpt_file_is_sent_turn_by_turn_with_the_answers(tmp_path: Path) -> None:
    write(tmp_path, json.dumps(CONVS))
    prof = Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": wl().model_dump(),
            "load": {"concurrency": 1, "max_requests": 5},
        }
    )
    server = ChatServer()
    recs: list[RequestRecord] = []
    said: list[tuple[str, str]] = []
    async with chat_server(server) as url:
        lr = LoadRun(prof, {"e0": url}, on_record=recs.append, base_dir=tmp_path,
                     on_event=lambda k, m: said.append((k, m)))  # fmt: skip
        await lr.run()
    digest = hashlib.sha256((tmp_path / "sg.json").read_bytes()).hexdigest()
    assert ("file", f"sharegpt file sg.json: sha256 {digest}") in said  # recorded: replayable
    msgs = [b["messages"] for b in server.bodies]
    assert msgs[1] == [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "answer 1"},  # the server's answer, not the recorded one
        {"role": "user", "content": "And then?"},
    ]
    assert msgs[3] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q?"},
    ]
    assert msgs[4][0]["content"] == "Hi there"  # cycled: the file again from its start
    assert [b["max_completion_tokens"] for b in server.bodies] == [10, 20, 1, 2, 10]
    assert sorted(r.turn for r in recs) == [1, 1, 1, 2, 3]


def test_the_file_is_read_once_for_every_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qtui.load.sharegpt as sharegpt

    reads: list[Path] = []
    real = sharegpt.read_conversations

    def counting(path: Path, w: Workload) -> tuple[list[object], int]:
        reads.append(path)
        return real(path, w)

    monkeypatch.setattr(sharegpt, "read_conversations", counting)
    path = write(tmp_path, json.dumps(CONVS))
    a, b = FileConversations(path, wl()), FileConversations(path, wl())
    assert len(reads) == 1 and len(a.items) == len(b.items) == 2  # two endpoints, one read
    write(tmp_path, json.dumps(CONVS[:1]))  # another size: read again
    assert len(FileConversations(path, wl()).items) == 1 and len(reads) == 2
    FileConversations(path, wl(turns=1))  # other settings: read again
    assert len(reads) == 3
