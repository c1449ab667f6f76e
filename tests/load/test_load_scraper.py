from fakevllm import Behaviour, FakeServer, refused_url

from qtui.load.scraper import ServerScraper


async def test_scrape_statuses_per_endpoint() -> None:
    async with (
        FakeServer() as ok,
        FakeServer(Behaviour(metrics="404")) as missing,
        FakeServer(Behaviour(metrics="html")) as html,
    ):
        urls = {
            "ok": f"{ok}/metrics",
            "missing": f"{missing}/metrics",
            "html": f"{html}/metrics",
            "dead": f"{refused_url()}/metrics",
        }
        s = ServerScraper(urls)
        first = {x.endpoint: x for x in await s.scrape_all()}
        second = {x.endpoint: x for x in await s.scrape_all()}
        await s.stop()
    assert {k: v.status for k, v in first.items()} == {
        "ok": "ok", "missing": "not_exposed", "html": "garbage", "dead": "unreachable",
    }  # fmt: skip
    assert "HTML" in first["html"].detail and "404" in first["missing"].detail
    assert first["ok"].generation_tps is None and second["ok"].generation_tps == 0.0
    assert s.last["ok"].request_success == {"length": 0.0}
