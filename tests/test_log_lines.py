"""Logs an on-call engineer can read at 80 columns: every common log format read into time, level, message and
fields; levels filtered; short pod prefixes with a legend and colours; symbol-and-word levels; ``--output json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from idp_tui.kube import log_lines as log_lines_module
from idp_tui.kube.log_format import (
    LEVEL_STYLES,
    STYLE_FIELD_KEY,
    STYLE_FIELD_VALUE,
    STYLE_MESSAGE,
    STYLE_MORE,
    STYLE_TIME,
    assign_colours,
    colour_index,
    format_pretty,
    legend,
    plain_text,
    pod_prefixes,
    source_label,
    to_json_line,
)
from idp_tui.kube.log_lines import (
    MAX_FIELDS,
    Level,
    LevelFilter,
    level_of,
    parse_level,
    parse_line,
)

T = datetime(2026, 11, 24, 16, 42, 7, 120000, tzinfo=UTC)


def at(seconds: float = 0) -> datetime:
    return T + timedelta(seconds=seconds)


# (logger, line, format, level, time, message, some fields) — lines as each library writes them.
LINES = [
    (
        "zap",
        '{"level":"error","ts":1795538527.12,"caller":"payments/handler.go:88","msg":"payment declined",'
        '"order":"A-1031","amount":42.5,"error":"card expired"}',
        "json",
        Level.ERROR,
        T,
        "payment declined",
        {"caller": "payments/handler.go:88", "amount": 42.5},
    ),
    (
        "zerolog",
        '{"level":"warn","service":"cart","time":"2026-11-24T16:42:07.12Z","message":"cache miss rate high"}',
        "json",
        Level.WARN,
        T,
        "cache miss rate high",
        {"service": "cart"},
    ),
    (
        "logrus",
        '{"level":"info","msg":"started","time":"2026-11-24T17:42:07.12+01:00"}',
        "json",
        Level.INFO,
        T,
        "started",
        {},
    ),
    (
        "slog",
        '{"time":"2026-11-24T16:42:07.120345678Z","level":"WARN","msg":"slow request","method":"GET",'
        '"path":"/cart","duration_ms":1250}',
        "json",
        Level.WARN,
        T + timedelta(microseconds=345),
        "slow request",
        {"path": "/cart", "duration_ms": 1250},
    ),
    (
        "pino",
        '{"level":50,"time":1795538527120,"pid":1,"hostname":"checkout-web-7d4b9c6f5-x2kqp",'
        '"req":{"id":42,"method":"POST","url":"/api/pay"},"msg":"request failed"}',
        "json",
        Level.ERROR,
        T,
        "request failed",
        {"req.method": "POST", "req.url": "/api/pay", "pid": 1},
    ),
    (
        "bunyan",
        '{"name":"orders","hostname":"h","pid":7,"level":40,"msg":"retrying","time":"2026-11-24T16:42:07.120Z","v":0}',
        "json",
        Level.WARN,
        T,
        "retrying",
        {"name": "orders", "v": 0},
    ),
    (
        "ecs",
        '{"@timestamp":"2026-11-24T16:42:07.120Z","log.level":"error","message":"db timeout","ecs.version":"1.6.0",'
        '"service.name":"orders","error.type":"TimeoutError"}',
        "json",
        Level.ERROR,
        T,
        "db timeout",
        {"error.type": "TimeoutError"},
    ),
    (
        "ecs nested",
        '{"@timestamp":"2026-11-24T16:42:07.120Z","log":{"level":"info","logger":"app"},"message":"ok"}',
        "json",
        Level.INFO,
        T,
        "ok",
        {"log.logger": "app"},
    ),
    (
        "winston",
        '{"level":"info","message":"listening on 8080","timestamp":"2026-11-24T16:42:07.120Z","service":"bff"}',
        "json",
        Level.INFO,
        T,
        "listening on 8080",
        {"service": "bff"},
    ),
    (
        "structlog",
        '{"event":"user logged in","user_id":123,"level":"info","timestamp":"2026-11-24T16:42:07.120000Z",'
        '"logger":"auth"}',
        "json",
        Level.INFO,
        T,
        "user logged in",
        {"user_id": 123},
    ),
    (
        "gcp",
        '{"severity":"ERROR","message":"boom","time":"2026-11-24T16:42:07.12Z",'
        '"logging.googleapis.com/trace":"projects/p/traces/abc"}',
        "json",
        Level.ERROR,
        T,
        "boom",
        {"logging.googleapis.com/trace": "projects/p/traces/abc"},
    ),
    (
        "serilog",
        '{"@t":"2026-11-24T16:42:07.1200000Z","@mt":"Processed {OrderId} in {Elapsed} ms","OrderId":1031,"Elapsed":34}',
        "json",
        Level.INFO,
        T,
        "Processed {OrderId} in {Elapsed} ms",
        {"OrderId": 1031},
    ),
    (
        "serilog warning",
        '{"@t":"2026-11-24T16:42:07.12Z","@m":"Disk low","@l":"Warning"}',
        "json",
        Level.WARN,
        T,
        "Disk low",
        {},
    ),
    (
        "python-json-logger",
        '{"asctime": "2026-11-24 16:42:07,120", "levelname": "ERROR", "name": "app", "message": "failed"}',
        "json",
        Level.ERROR,
        T,
        "failed",
        {"name": "app"},
    ),
    (
        "log4j2",
        '{"instant":{"epochSecond":1795538527,"nanoOfSecond":120000000},"thread":"main","level":"WARN",'
        '"loggerName":"com.acme.App","message":"slow","endOfBatch":false}',
        "json",
        Level.WARN,
        T,
        "slow",
        {"loggerName": "com.acme.App", "endOfBatch": False},
    ),
    (
        "logstash-logback",
        '{"@timestamp":"2026-11-24T16:42:07.120+00:00","@version":"1","message":"x",'
        '"logger_name":"c.a.A","thread_name":"main","level":"INFO","level_value":20000}',
        "json",
        Level.INFO,
        T,
        "x",
        {"level_value": 20000},
    ),
    (
        "logfmt",
        'time="2026-11-24T16:42:07.12Z" level=warning msg="slow query" duration=1.2s table=orders',
        "logfmt",
        Level.WARN,
        T,
        "slow query",
        {"duration": "1.2s", "table": "orders"},
    ),
    (
        "logfmt escapes",
        r'level=error msg="failed to parse \"config.yaml\": line 3" component=loader retry',
        "logfmt",
        Level.ERROR,
        None,
        'failed to parse "config.yaml": line 3',
        {"component": "loader", "retry": True},
    ),
    (
        "go-kit",
        'ts=2026-11-24T16:42:07.12Z caller=main.go:42 level=info msg="listening" addr=:8080',
        "logfmt",
        Level.INFO,
        T,
        "listening",
        {"addr": ":8080"},
    ),
    (
        "klog",
        "E1124 16:42:07.120345       1 reflector.go:147] failed to list *v1.Pod: pods is forbidden",
        "plain",
        Level.ERROR,
        None,
        "failed to list *v1.Pod: pods is forbidden",
        {},
    ),
    ("python logging", "ERROR:root:connection refused", "plain", Level.ERROR, None, "root:connection refused", {}),
    (
        "spring",
        "2026-11-24 16:42:07.120  WARN 1 --- [main] o.s.b.Application : slow start",
        "plain",
        Level.WARN,
        T,
        "1 --- [main] o.s.b.Application : slow start",
        {},
    ),
    (
        "nginx",
        '10.0.0.7 - - [24/Nov/2026:16:42:07 +0000] "GET /health HTTP/1.1" 200 2',
        "plain",
        None,
        None,
        '10.0.0.7 - - [24/Nov/2026:16:42:07 +0000] "GET /health HTTP/1.1" 200 2',
        {},
    ),
]


@pytest.mark.parametrize(
    ("logger", "line", "fmt", "level", "moment", "message", "fields"), LINES, ids=[row[0] for row in LINES]
)
def test_common_log_formats(logger, line, fmt, level, moment, message, fields):
    parsed = parse_line(line)
    assert (parsed.format, parsed.level, parsed.message) == (fmt, level, message)
    assert parsed.time == moment
    assert fields.items() <= parsed.field_dict.items()
    assert parsed.raw == line
    # time, level and message are taken out of the fields
    assert not {"time", "ts", "level", "msg", "message", "@t", "@mt", "severity", "log.level"} & set(parsed.field_dict)


def test_kubectl_timestamps_prefix_gives_the_time_when_the_line_has_none():
    line = '2026-11-24T16:42:07.120345678Z {"level":"info","msg":"ready"}'
    parsed = parse_line(line)
    assert (parsed.format, parsed.level, parsed.message) == ("json", Level.INFO, "ready")
    assert parsed.time == T + timedelta(microseconds=345) and parsed.raw == line
    klog = parse_line("2026-11-24T16:42:07.12Z W1124 16:42:07.120000       1 leader.go:12] lost lease")
    assert (klog.level, klog.time, klog.message) == (Level.WARN, T, "lost lease")
    own = parse_line('2026-11-24T16:42:09Z {"level":"info","ts":"2026-11-24T16:42:07.12Z","msg":"x"}')
    assert own.time == T  # the line's own time wins


def test_prose_with_an_equals_sign_or_a_level_word_stays_plain():
    for line in ("no error found in 3 files", "retrying with x=1 and y=2", "Error connecting to db"):
        parsed = parse_line(line)
        assert (parsed.format, parsed.level, parsed.message) == ("plain", None, line)


# --- hostile lines ----------------------------------------------------------------------------------------------


def test_a_one_megabyte_line_is_shown_as_it_came_without_being_decoded(monkeypatch):
    huge = '{"level":"error","msg":"' + "x" * 1_000_000 + '"}'
    decoded = []

    class CountingDecoder(json.JSONDecoder):
        def decode(self, text, *args, **kwargs):
            decoded.append(len(text))
            return super().decode(text, *args, **kwargs)

    monkeypatch.setattr(log_lines_module, "_DECODER", CountingDecoder())
    parsed = parse_line(huge)
    assert parsed.format == "plain" and parsed.message == huge
    assert parsed.level is Level.ERROR  # still found near the start, so ≥ warn keeps it
    assert not any(size > log_lines_module.MAX_STRUCTURED for size in decoded), decoded
    assert parse_line('{"level":"error","msg":"short"}').message == "short" and decoded  # the decoder is the one used
    plain = parse_line("y" * 1_000_000)
    assert plain.format == "plain" and plain.level is None


@pytest.mark.parametrize(
    "line",
    [
        '{"level":"error","msg":"unterminated',
        '{"level": "warn", "msg": "trailing comma",}',
        "{not json at all}",
        '{"a":' * 5000 + "1" + "}" * 5000,  # nesting deeper than the decoder allows
        "[1, 2, 3]",
        '"just a string"',
        "\x00\x1b[2J\udcff",
        'msg="unterminated quote level=error',
        "",
    ],
)
def test_broken_lines_never_raise_and_stay_whole(line):
    parsed = parse_line(line)
    assert parsed.raw == line and parsed.format == "plain"
    plain_text(format_pretty(parsed, 80))
    json.loads(to_json_line(parsed, pod="p", container="c", cluster="k"))


@pytest.mark.parametrize("value", ["true", '{"a":1}', "3.5", "500", "-1", "null", '"LOUD"', "[30]", '"x" '])
def test_levels_that_are_not_levels_are_kept_as_fields(value):
    parsed = parse_line('{"level":' + value + ',"msg":"hi"}')
    assert parsed.level is None and parsed.message == "hi"
    assert any(key.startswith("level") for key, _ in parsed.fields)


def test_nested_values_flatten_a_json_string_stays_a_string_and_nan_stays_a_word():
    parsed = parse_line(
        '{"level":"info","msg":"{\\"inner\\":1}","http":{"req":{"headers":{"a":{"b":1}}}},'
        '"tags":["a","b"],"ratio":NaN,"n":null,"msg2":{"x":1}}'
    )
    assert parsed.message == '{"inner":1}'
    fields = parsed.field_dict
    assert fields["http.req.headers.a"] == '{"b":1}'  # flattened four levels deep, then kept as JSON
    assert fields["tags"] == '["a","b"]' and fields["ratio"] == "NaN" and fields["n"] is None
    assert fields["msg2.x"] == 1


def test_fields_are_capped_and_the_rest_counted():
    record = {"level": "info", "msg": "wide"} | {f"k{i}": i for i in range(200)}
    parsed = parse_line(json.dumps(record))
    assert len(parsed.fields) == MAX_FIELDS and parsed.dropped_fields == 200 - MAX_FIELDS
    spans = format_pretty(parsed, 80)
    shown = sum(1 for span in spans if span.style == STYLE_FIELD_KEY)
    assert 0 < shown < MAX_FIELDS
    assert plain_text(spans).endswith(f"  +{200 - shown}") and len(plain_text(spans)) <= 80


def test_escape_sequences_in_a_message_never_reach_the_terminal():
    parsed = parse_line(
        '{"level":"error","msg":"\\u001b]52;c;ZXZpbA==\\u0007boom \\u001b[2J\\u202etxt","k":"\\u001b[31mred"}'
    )
    shown = plain_text(format_pretty(parsed))
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "boom" in shown and "k=red" in shown
    line = to_json_line(parsed, pod="p", container="c", cluster="k")
    assert "\x1b" not in line and json.loads(line)["message"].startswith("\x1b]52")  # escaped, not dropped


# --- levels -----------------------------------------------------------------------------------------------------


def test_level_names_and_numbers_normalise_to_one_ordered_set():
    assert Level.TRACE < Level.DEBUG < Level.INFO < Level.WARN < Level.ERROR < Level.FATAL
    assert [level_of(n) for n in (10, 20, 30, 40, 50, 60)] == list(Level)  # pino and bunyan
    assert [level_of(n) for n in (3, 4, 6, 7)] == [Level.ERROR, Level.WARN, Level.INFO, Level.DEBUG]  # syslog
    assert level_of("Warning") is level_of("WRN") is level_of("warn") is Level.WARN
    assert level_of("CRITICAL") is level_of("panic") is level_of("emerg") is Level.FATAL
    assert level_of("dpanic") is Level.ERROR  # zap logs DPanic as an error in production
    assert level_of("Information") is Level.INFO and level_of("Verbose") is Level.TRACE
    assert parse_level("≥ warn") is parse_level("W") is Level.WARN
    with pytest.raises(ValueError, match="unknown level 'loud'"):
        parse_level("loud")


def test_a_warn_floor_keeps_warnings_and_worse_only():
    lines = [
        parse_line(text)
        for text in (
            '{"level":"debug","msg":"a"}',
            '{"level":"info","msg":"b"}',
            '{"level":"warn","msg":"c"}',
            "level=error msg=d",
            "F1124 16:42:07.120000 1 main.go:1] e",
            "no level here",
        )
    ]
    assert [line.message for line in lines if LevelFilter("warn").keep(line)] == ["c", "d", "e"]
    assert [line.message for line in lines if LevelFilter(Level.ERROR).keep(line)] == ["d", "e"]


def test_level_filter_keeps_an_errors_stack_trace_from_the_same_container():
    filtered = LevelFilter("warn")
    stream = [
        ("a", '{"level":"info","msg":"handling"}'),
        ("a", '{"level":"error","msg":"unhandled exception"}'),
        ("b", "\tat com.acme.Other.run(Other.java:3)"),  # b's last line was not kept
        ("a", "Traceback (most recent call last):"),
        ("a", '  File "app.py", line 3, in <module>'),
        ("a", "ValueError: bad input"),
        ("a", "a new unrelated line"),
        ("a", "\tat not.after.a.kept.line"),
    ]
    kept = [text for source, text in stream if filtered.keep(parse_line(text), source)]
    assert kept == [
        '{"level":"error","msg":"unhandled exception"}',
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in <module>',
        "ValueError: bad input",
    ]


# --- pod prefixes, legend, colours ------------------------------------------------------------------------------


def test_pods_of_one_deployment_keep_only_their_suffix_with_a_legend():
    pods = ["checkout-web-7d4b9c6f5-x2kqp", "checkout-web-7d4b9c6f5-9zr7m"]
    prefixes = pod_prefixes(pods)
    assert prefixes == {"checkout-web-7d4b9c6f5-x2kqp": "x2kqp", "checkout-web-7d4b9c6f5-9zr7m": "9zr7m"}
    assert legend(prefixes) == ["9zr7m=checkout-web-7d4b9c6f5-9zr7m  x2kqp=checkout-web-7d4b9c6f5-x2kqp"]
    assert legend(prefixes, width=40) == ["9zr7m=checkout-web-7d4b9c6f5-9zr7m", "x2kqp=checkout-web-7d4b9c6f5-x2kqp"]


def test_prefixes_across_replicasets_workloads_daemonsets_and_statefulsets():
    during_rollout = pod_prefixes(["checkout-web-7d4b9c6f5-x2kqp", "checkout-web-5f6d8c9b7-b4t6n"])
    assert sorted(during_rollout.values()) == ["b4t6n", "x2kqp"]
    two = pod_prefixes(["checkout-web-7d4b9c6f5-x2kqp", "checkout-worker-6c8f7d9b4-k8s2p"])
    assert two == {"checkout-web-7d4b9c6f5-x2kqp": "web-x2kqp", "checkout-worker-6c8f7d9b4-k8s2p": "worker-k8s2p"}
    assert pod_prefixes(["fluent-bit-7xk2p", "fluent-bit-m4zq9"]) == {
        "fluent-bit-7xk2p": "7xk2p",
        "fluent-bit-m4zq9": "m4zq9",
    }
    assert pod_prefixes(["postgres-0", "postgres-1"]) == {"postgres-0": "postgres-0", "postgres-1": "postgres-1"}
    mixed = pod_prefixes(["orders-api-6c8f7d9b4-k8s2p", "orders-db-0"])
    assert mixed == {"orders-api-6c8f7d9b4-k8s2p": "api-k8s2p", "orders-db-0": "db-0"}
    assert pod_prefixes(["my-pod"]) == {"my-pod": "my-pod"}
    clash = pod_prefixes(["a-7d4b9c6f5-x2kqp", "a-5f6d8c9b7-x2kqp"])  # same suffix: keep the full names
    assert clash == {"a-7d4b9c6f5-x2kqp": "a-7d4b9c6f5-x2kqp", "a-5f6d8c9b7-x2kqp": "a-5f6d8c9b7-x2kqp"}
    assert legend(clash) == []


def test_colours_are_stable_distinct_and_kept_when_pods_join():
    pods = [f"checkout-web-7d4b9c6f5-{suffix}" for suffix in ("x2kqp", "9zr7m", "k8s2p", "p5vwx")]
    first = assign_colours(pods, 8)
    assert len(set(first.values())) == 4
    assert assign_colours(list(reversed(pods)), 8) == first
    assert colour_index(pods[0], 8) == colour_index(pods[0], 8) and 0 <= colour_index(pods[0], 8) < 8
    joined = assign_colours([*pods, "checkout-web-5f6d8c9b7-b4t6n"], 8, existing=first)
    assert {pod: joined[pod] for pod in pods} == first and len(set(joined.values())) == 5
    crowded = assign_colours([f"p-{i}" for i in range(12)], 8)
    assert set(crowded.values()) == set(range(8))  # every colour used before any repeats


# --- pretty lines and JSON lines --------------------------------------------------------------------------------


def zap() -> str:
    return LINES[0][1]


def test_pretty_line_at_80_columns_reads_without_colour():
    parsed = parse_line(zap())
    text = plain_text(format_pretty(parsed, 80))
    assert text == "16:42:07.120 ✖ ERROR payment declined  order=A-1031 amount=42.5  +2"
    assert len(text) <= 80
    full = plain_text(format_pretty(parsed))
    assert full == (
        '16:42:07.120 ✖ ERROR payment declined  order=A-1031 amount=42.5 error="card expired" '
        "caller=payments/handler.go:88"
    )
    assert (
        plain_text(format_pretty(parsed, 30)) == "16:42:07.120 ✖ ERROR payment declined  +4"
    )  # the message stays whole


def test_pretty_spans_carry_style_names_for_the_renderers():
    spans = format_pretty(parse_line(zap()), 80)
    styles = [span.style for span in spans if span.style]
    assert styles == [
        STYLE_TIME,
        LEVEL_STYLES[Level.ERROR],
        STYLE_MESSAGE,
        STYLE_FIELD_KEY,
        STYLE_FIELD_VALUE,
        STYLE_FIELD_KEY,
        STYLE_FIELD_VALUE,
        STYLE_MORE,
    ]


def test_every_level_has_a_symbol_and_a_word_of_one_width():
    shown = {}
    for level in Level:
        text = plain_text(format_pretty(parse_line(json.dumps({"level": level.word, "msg": "m"})), show_time=False))
        shown[level] = text
    assert shown == {
        Level.FATAL: "■ FATAL m",
        Level.ERROR: "✖ ERROR m",
        Level.WARN: "▲ WARN  m",
        Level.INFO: "● INFO  m",
        Level.DEBUG: "· DEBUG m",
        Level.TRACE: "· TRACE m",
    }


def test_plain_lines_keep_their_text_and_unknown_levels_keep_the_columns():
    assert plain_text(format_pretty(parse_line("\tat com.acme.Pay.charge(Pay.java:42)"))) == (
        "\tat com.acme.Pay.charge(Pay.java:42)".replace("\t", " ")
    )
    no_level = plain_text(format_pretty(parse_line('{"msg":"hello","ts":"2026-11-24T16:42:07.12Z"}')))
    assert no_level == "16:42:07.120         hello"
    no_time = plain_text(format_pretty(parse_line('{"level":"info","msg":"hello"}')))
    assert no_time == "             ● INFO  hello"


def test_json_output_line():
    parsed = parse_line(LINES[4][1])  # pino
    line = to_json_line(parsed, pod="checkout-web-7d4b9c6f5-x2kqp", container="app", cluster="demo-eu")
    assert json.loads(line) == {
        "pod": "checkout-web-7d4b9c6f5-x2kqp",
        "container": "app",
        "cluster": "demo-eu",
        "time": "2026-11-24T16:42:07.120000Z",
        "level": "error",
        "message": "request failed",
        "fields": {
            "pid": 1,
            "hostname": "checkout-web-7d4b9c6f5-x2kqp",
            "req.id": 42,
            "req.method": "POST",
            "req.url": "/api/pay",
        },
        "format": "json",
    }
    assert "\n" not in line
    unreadable_time = parse_line('{"level":"info","time":"yesterday at noon","msg":"x"}')
    assert json.loads(to_json_line(unreadable_time, pod="p", container="c", cluster="k"))["fields"]["time"] == (
        "yesterday at noon"
    )
    offset = parse_line('{"level":"info","time":"2026-11-24T17:42:07.12+01:00","msg":"x"}')
    assert offset.time.utcoffset() == timezone(timedelta(hours=1)).utcoffset(None)
    assert (
        json.loads(to_json_line(offset, pod="p", container="c", cluster="k"))["time"]
        == "2026-11-24T17:42:07.120000+01:00"
    )


@pytest.mark.parametrize(
    "line",
    [
        "9999-12-31T23:59:59-05:00 ERROR boom",
        "0001-01-01T00:00:00+05:00 ERROR boom",
        '{"level":"error","msg":"boom","time":"9999-12-31T23:59:59-05:00"}',
        '{"level":"error","msg":"boom","time":"0001-01-01T00:00:00+05:00"}',
        'level=error msg=boom time="9999-12-31T23:59:59-05:00"',
        "level=error msg=boom ts=0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00 " + '{"level":"error","msg":"boom"}',
    ],
)
def test_a_time_past_the_calendar_in_utc_is_no_time_and_the_line_still_reads(line):
    parsed = parse_line(line)
    assert parsed.time is None and parsed.level is Level.ERROR
    assert "✖ ERROR boom" in plain_text(format_pretty(parsed, 80))  # no OverflowError
    assert json.loads(to_json_line(parsed, pod="p", container="c", cluster="k"))["level"] == "error"


def test_a_number_too_big_for_a_float_stays_as_written_and_the_json_output_stays_json():
    for text in ('{"msg":"x","n":1e999}', '{"msg":"x","n":-1e999,"level":1e999}', "level=info msg=x n=1e999"):
        record = json.loads(to_json_line(parse_line(text), pod="p", container="c", cluster="k"))
        assert record["message"] == "x" and record["fields"]["n"].lstrip("-") == "1e999"
    nan = json.loads(to_json_line(parse_line('{"msg":"x","n":NaN}'), pod="p", container="c", cluster="k"))
    assert nan["fields"]["n"] == "NaN"


def test_a_source_label_says_the_container_only_when_the_pod_is_not_named_after_it():
    pod = "checkout-web-7d4b9c6f5-x2kqp"
    assert source_label("x2kqp", pod, "checkout-web") == "x2kqp"
    assert source_label("x2kqp", pod, "istio-proxy") == "x2kqp/istio-proxy"
    assert source_label("x2kqp", pod, "") == "x2kqp"
