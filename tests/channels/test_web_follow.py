"""The web page names the Telegram bot and the Zalo OA for receiving campaign messages only
when their links are configured, and only those."""

from __future__ import annotations

import re

import pytest

from bot.content import texts
from tests.channels.test_web_limits import limited_gateway
from tests.test_gateway import fake_rasa, sqlite_db  # noqa: F401  (fixture)

FOLLOW = re.compile(r'<p class="follow-note">(.*?)</p>')


async def served_page(**links) -> str:
    server, _ = await fake_rasa([])
    client = await limited_gateway(server.port, **links)
    try:
        return await (await client.get("/")).text()
    finally:
        await client.close()
        await server.close()


@pytest.mark.parametrize("links, shown", [
    ({}, None),
    ({"telegram_bot_url": "https://t.me/example_bot"}, ["Telegram"]),
    ({"telegram_bot_url": "https://t.me/example_bot", "zalo_oa_url": "https://zalo.me/123&x=1"}, ["Telegram", "Zalo"]),
])
async def test_the_page_links_only_the_configured_apps(sqlite_db, links, shown):  # noqa: F811
    page = await served_page(**links)
    assert "{{FOLLOW}}" not in page
    note = FOLLOW.search(page)
    if shown is None:
        assert note is None and "t.me" not in page
        return
    assert note.group(1).startswith(texts()["web_follow"])
    assert re.findall(r">([^<]+)</a>", note.group(1)) == shown
    assert 'href="https://t.me/example_bot"' in note.group(1)
    if "Zalo" in shown:
        assert 'href="https://zalo.me/123&amp;x=1"' in note.group(1)
