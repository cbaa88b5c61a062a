"""Issue 17 helpers: escaping user text for markdown and Plotly, and the number and memory
rules, checked against hand-computed answers."""

from __future__ import annotations

import math
import re

import pytest

from demix_core.config import make_config
from demix_core.errors import ConfigError
from demix_core.safe_text import code, md, plotly
from demix_core.validation import (
    check_memory,
    check_number,
    embedding_widths,
    step_peak_bytes,
)

HOSTILE = "![x](http://127.0.0.1:9/t.png) <b>bold</b> **s** _i_ `c` # h | t ~~d~~ $x$ :red[r]"


def test_md_escapes_every_markup_character_of_a_hostile_name():
    assert md(HOSTILE) == (
        r"\!\[x\](http://127.0.0.1:9/t.png) \<b\>bold\</b\> \*\*s\*\* \_i\_ \`c\` \# h \| t "
        r"\~\~d\~\~ \$x\$ :red\[r\]"
    )
    # independent check: no markup character is left without an escaping backslash
    unescaped = re.findall(r"(?<!\\)[\[\]!<>*_`#|~$]", md(HOSTILE))
    assert unescaped == []


def test_md_flattens_line_breaks_and_escapes_backslashes():
    assert md("a\nb\r\nc") == "a b c"
    assert md("C:\\dir") == "C:\\\\dir"


def test_code_spans_cannot_be_closed_from_inside():
    assert code("/tmp/a b") == "`/tmp/a b`"
    assert code("x``y") == "```x``y```"
    assert code("`x") == "`` `x ``"


def test_plotly_text_is_entities_not_tags():
    assert (
        plotly('<a href="http://e">x</a> & <b>')
        == '&lt;a href="http://e"&gt;x&lt;/a&gt; &amp; &lt;b&gt;'
    )


def test_check_number_refuses_non_finite_and_out_of_range_values():
    check_number("lr", 0.5, 0, low_open=True)
    for value in (math.nan, math.inf, -math.inf, "1", True):
        with pytest.raises(ConfigError, match="--lr"):
            check_number("lr", value, 0, low_open=True)
    with pytest.raises(ConfigError, match="must be > 0"):
        check_number("lr", 0.0, 0, low_open=True)
    with pytest.raises(ConfigError, match="an integer"):
        check_number("dim", 2.5, 1, integer=True)
    with pytest.raises(ConfigError, match="<= 8"):
        check_number("max_workers", 9, 1, 8, integer=True)


def test_embedding_widths_follow_the_models():
    assert embedding_widths("transe", 10) == (10, 10)
    assert embedding_widths("distmult", 10) == (10, 10)
    assert embedding_widths("rotate", 10) == (20, 10)
    assert embedding_widths("complex", 10) == (20, 20)


def test_step_peak_is_the_documented_sum():
    cfg = make_config("nations", "rotate", dim=50, batch_size=64, negatives=16)
    # 8 x B x K x De x 4 bytes + 4 copies x 4 bytes x (E x De + R x Dr) + 400 MB runtime
    want = 8 * 64 * 16 * 100 * 4 + 16 * (14 * 100 + 55 * 50) + 400 * 2**20
    assert step_peak_bytes(cfg, 14, 55) == want


def test_check_memory_refuses_with_the_estimate_and_passes_what_fits(monkeypatch):
    cfg = make_config("nations", "transe", dim=100, batch_size=512, negatives=1024)
    need = step_peak_bytes(cfg, 14, 55)  # 8 x 512 x 1024 x 100 x 4 = 1.6 GB + 400 MB
    monkeypatch.setenv("DEMIX_MEMORY_MB", str(need / 2**20 + 1))
    assert check_memory(cfg, 14, 55) == need
    monkeypatch.setenv("DEMIX_MEMORY_MB", str(need / 2**20 - 1))
    with pytest.raises(ConfigError, match=r"--negatives 1024 x --batch-size 512 .* 2\.0 GB"):
        check_memory(cfg, 14, 55)


@pytest.mark.parametrize(
    ("field", "value"),
    [("gamma", -1.0), ("gamma", math.nan), ("lr", math.inf), ("adv_temperature", math.nan),
     ("reg_weight", math.nan), ("time_budget", math.nan), ("seed", 2**64), ("seed", -1),
     ("dim", 0), ("negatives", 2.5)],
)  # fmt: skip
def test_train_config_refuses_each_bad_field(field, value):
    with pytest.raises(ConfigError, match=f"--{field.replace('_', '-')}"):
        make_config("nations", **{field: value})


def test_sampler_options_must_be_finite_at_config_time():
    with pytest.raises(ConfigError, match="--mu"):
        make_config("nations", sampler="demix", sampler_options={"mu": math.nan})
    with pytest.raises(ConfigError, match="--alpha"):
        make_config("nations", sampler="demix", sampler_options={"alpha": math.inf})
