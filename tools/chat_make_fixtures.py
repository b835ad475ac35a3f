#!/usr/bin/env python3
# Generates the chat-template fixtures of tests/chat/data/ with jinja2 set up exactly as
# Hugging Face transformers' apply_chat_template sets it up (the oracle for src/chat/).
#
# Command (run from the repo root; needs only `pip install jinja2`):
#   python3 tools/chat_make_fixtures.py --out tests/chat/data
#
# (needs jinja2 and tokenizers, and the zstd command line tool)
#
# Writes qwen3_cases.json, qwen25_cases.json (the shipped templates of data/*-tokenizer/) and
# jinja_features.json (small synthetic templates, one Jinja feature each). Every case holds the
# full render context and either the expected text or the error jinja2 raised. cli_requests.json
# holds OpenAI request bodies with the prompt and the token ids (HF `tokenizers` on the shipped
# Qwen3 tokenizer.json) that `longctx template --json` must print.
import argparse
import copy
import json
import os
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


class AssistantTracker(jinja2.ext.Extension):
    """HF's {% generation %} tag; outside assistant-mask tracking it renders its body as is."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def hf_environment():
    """transformers.utils.chat_template_utils._compile_jinja_template, reproduced."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # HF overrides jinja2's tojson: no HTML escaping, non-ASCII kept, key order kept.
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = hf_environment()


def render_case(template_text, name, context):
    case = {"name": name, "context": context}
    try:
        case["expected"] = ENV.from_string(template_text).render(**copy.deepcopy(context))
    except Exception as e:  # the C++ side must fail too; keep the message for raise_exception
        case["error"] = f"{type(e).__name__}: {e}"
    return case


# ---- conversations ---------------------------------------------------------------------------

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. \"Paris\""},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"]}}}
SEARCH_TOOL = {"type": "function", "function": {
    "name": "search", "description": "Søk på nettet — 検索 🔍",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string"}, "top_k": {"type": "integer", "default": 5, "maximum": 1e20},
        "threshold": {"type": "number", "default": 0.5, "minimum": 1e-07},
        "safe": {"type": "boolean", "default": True}, "filters": {"type": "object", "default": None}},
        "required": ["query"]}}}
NESTED_TOOL = {"type": "function", "function": {
    "name": "create_event", "description": "Path C:\\Users\\me\\cal and a \"quoted\" word\ttab",
    "parameters": {"type": "object", "properties": {
        "when": {"type": "object", "properties": {"start": {"type": "string"}, "minutes": {"type": "integer"}}},
        "attendees": {"type": "array", "items": {"type": "string"}}, "weight": {"type": "number", "default": 3.0}}}}}


def call(name, args, wrapped=True, call_id="call_1"):
    fn = {"name": name, "arguments": args}
    return {"id": call_id, "type": "function", "function": fn} if wrapped else fn


def tool_msg(content, call_id="call_1"):
    return {"role": "tool", "tool_call_id": call_id, "content": content}


U = lambda c: {"role": "user", "content": c}
A = lambda c, **kw: {"role": "assistant", "content": c, **kw}
S = lambda c: {"role": "system", "content": c}


def qwen3_conversations():
    weather_turn = A("", tool_calls=[call("get_weather", {"city": "Paris", "unit": "celsius"})])
    return [
        ("user_only", [U("Hello!")], {}),
        ("user_only_no_generation_prompt", [U("Hello!")], {"add_generation_prompt": False}),
        ("system_and_user", [S("You are terse."), U("Hi")], {}),
        ("system_user_thinking_off", [S("You are terse."), U("Hi")], {"enable_thinking": False}),
        ("user_thinking_on", [U("Hi")], {"enable_thinking": True}),
        ("thinking_off_no_generation_prompt", [U("Hi")], {"enable_thinking": False, "add_generation_prompt": False}),
        ("multi_turn", [U("What is 2+2?"), A("4."), U("And 3+3?")], {}),
        ("reasoning_before_last_query_dropped",
         [U("What is 2+2?"), A("4.", reasoning_content="Adding two and two."), U("And 3+3?")], {}),
        ("reasoning_after_last_query_kept",
         [U("What is 2+2?"), A("4.", reasoning_content="\nAdding two and two.\n")], {"add_generation_prompt": False}),
        ("inline_think_before_last_query_dropped",
         [U("Q1"), A("<think>\nmull it over\n</think>\n\nAnswer one."), U("Q2")], {}),
        ("inline_think_last_message_kept",
         [U("Q1"), A("<think>\nmull it over\n</think>\n\nAnswer one.")], {"add_generation_prompt": False}),
        ("tools_without_system", [U("Weather in Paris?")], {"tools": [WEATHER_TOOL]}),
        ("tools_with_system", [S("Be helpful."), U("Weather in Paris?")], {"tools": [WEATHER_TOOL, SEARCH_TOOL]}),
        ("tool_call_object_arguments",
         [U("Weather in Paris?"), weather_turn, tool_msg('{"temp": 21}')], {"tools": [WEATHER_TOOL]}),
        ("tool_call_string_arguments",
         [U("Weather in Paris?"), A("", tool_calls=[call("get_weather", '{"city":"Paris"}')]), tool_msg("sunny")],
         {"tools": [WEATHER_TOOL]}),
        ("multiple_tool_calls_with_content",
         [U("Compare Paris and Oslo"),
          A("Let me check both.", tool_calls=[call("get_weather", {"city": "Paris"}),
                                              call("get_weather", {"city": "Oslo"}, call_id="call_2")]),
          tool_msg("21C"), tool_msg("5C", "call_2")], {"tools": [WEATHER_TOOL]}),
        ("multi_step_last_query_is_tool_response",
         [U("Plan a trip"), A("", reasoning_content="Need weather first.", tool_calls=[call("get_weather", {"city": "Rome"})]),
          tool_msg("hot"), A("", reasoning_content="Now search.", tool_calls=[call("search", {"query": "Rome hotels"})]),
          tool_msg("Hotel A, Hotel B")], {"tools": [WEATHER_TOOL, SEARCH_TOOL]}),
        ("multi_step_then_final_answer",
         [U("Plan a trip"), A("", reasoning_content="Need weather.", tool_calls=[call("get_weather", {"city": "Rome"})]),
          tool_msg("hot"), A("Go in spring.", reasoning_content="Summarise.")],
         {"tools": [WEATHER_TOOL], "add_generation_prompt": False}),
        ("user_content_wrapped_as_tool_response",
         [U("Real question"), A("ok"), U("<tool_response>\nresult\n</tool_response>")], {}),
        ("unicode_content",
         [S("Réponds en français. 日本語も可。"), U("Ça va? 🙂 Ünïcödé — “quotes” 𝔘"), A("Très bien ✓"), U("Ещё раз")],
         {"tools": [SEARCH_TOOL]}),
        ("special_characters_in_arguments",
         [U("Make an event"),
          A("", tool_calls=[call("create_event", {"title": "He said \"hi\"\\n", "path": "C:\\tmp\\x",
                                                  "note": "line1\nline2\ttab", "emoji": "🎉", "nums": [1, 2.5, -3e-05, 1e+16],
                                                  "flag": False, "none": None, "nested": {"b": 1, "a": [True]}})]),
          tool_msg("{\"ok\": true}")], {"tools": [NESTED_TOOL]}),
        ("system_not_first", [U("Hi"), A("Hello"), S("Now be formal."), U("Greetings")], {}),
        ("tool_call_without_function_wrapper",
         [U("Weather?"), A("", tool_calls=[call("get_weather", {"city": "Lima"}, wrapped=False)]), tool_msg("cold")],
         {"tools": [WEATHER_TOOL]}),
        ("explicit_null_reasoning_falls_back_to_inline",
         [U("Q"), A("<think>inner</think>outer", reasoning_content=None)], {"add_generation_prompt": False}),
        ("empty_reasoning_content_kept_verbatim",
         [U("Q"), A("Plain answer", reasoning_content="")], {"add_generation_prompt": False}),
        ("assistant_after_query_not_last_without_reasoning",
         [U("Q"), A("first part"), A("second part")], {"add_generation_prompt": False}),
        ("only_system_message", [S("System only.")], {}),
        ("three_consecutive_tool_responses",
         [U("Run three"), A("", tool_calls=[call("search", {"query": "a"}), call("search", {"query": "b"}, call_id="c2"),
                                           call("search", {"query": "c"}, call_id="c3")]),
          tool_msg("ra"), tool_msg("rb", "c2"), tool_msg("rc", "c3"), A("Done."), U("Thanks")],
         {"tools": [SEARCH_TOOL], "enable_thinking": False}),
        ("whitespace_heavy_content", [U("  leading and trailing  \n\n"), A("\n\n<think>\n\nx\n\n</think>\n\n\nAnswer\n")],
         {"add_generation_prompt": False}),
        ("error_assistant_content_none",
         [U("Q"), {"role": "assistant", "content": None, "tool_calls": [call("search", {"query": "q"})]}], {}),
    ]


def qwen25_conversations():
    return [
        ("user_only_default_system", [U("Hello!")], {}),
        ("system_and_user", [S("You are terse."), U("Hi")], {}),
        ("no_generation_prompt", [U("Hello!")], {"add_generation_prompt": False}),
        ("tools_default_system", [U("Weather?")], {"tools": [WEATHER_TOOL]}),
        ("tools_with_system", [S("Be brief."), U("Weather?")], {"tools": [WEATHER_TOOL, SEARCH_TOOL]}),
        ("multi_turn", [U("2+2?"), A("4"), U("3+3?"), A("6"), U("Thanks")], {}),
        ("tool_call_empty_content",
         [U("Weather in Paris?"), A("", tool_calls=[call("get_weather", {"city": "Paris"})]), tool_msg("sunny")],
         {"tools": [WEATHER_TOOL]}),
        ("tool_call_with_content",
         [U("Weather in Paris?"), A("Checking.", tool_calls=[call("get_weather", {"city": "Paris"})]), tool_msg("sunny")],
         {"tools": [WEATHER_TOOL]}),
        ("tool_call_string_arguments_double_encoded",
         [U("Weather?"), A("", tool_calls=[call("get_weather", '{"city": "Oslo"}')]), tool_msg("cold")],
         {"tools": [WEATHER_TOOL]}),
        ("multiple_tool_calls",
         [U("Both"), A("", tool_calls=[call("get_weather", {"city": "A"}), call("get_weather", {"city": "B"}, call_id="2")]),
          tool_msg("1"), tool_msg("2", "2")], {"tools": [WEATHER_TOOL]}),
        ("consecutive_tool_responses_then_answer",
         [U("Both"), A("", tool_calls=[call("search", {"query": "x"}), call("search", {"query": "y"}, call_id="2")]),
          tool_msg("rx"), tool_msg("ry", "2"), A("Found both."), U("ok")], {"tools": [SEARCH_TOOL]}),
        ("tool_message_first", [tool_msg("orphan"), U("Hi")], {}),
        ("system_not_first", [U("Hi"), S("Mid system"), U("Again")], {}),
        ("unicode_content", [S("Système ✓"), U("你好，世界 🌍"), A("Привет"), U("ελληνικά")], {"tools": [SEARCH_TOOL]}),
        ("special_characters",
         [U("Quote \" and backslash \\ and \n newline"),
          A("", tool_calls=[call("create_event", {"title": "a\"b\\c", "ctrl": "\u0001\u001f", "list": [1, 2.0, 0.1]})]),
          tool_msg("{\"done\": true}")], {"tools": [NESTED_TOOL]}),
        ("tool_call_without_function_wrapper",
         [U("Weather?"), A("", tool_calls=[call("get_weather", {"city": "Lima"}, wrapped=False)]), tool_msg("cold")], {}),
        ("empty_tool_calls_list", [U("Hi"), A("Hello", tool_calls=[]), U("Bye")], {}),
        ("enable_thinking_ignored", [U("Hi")], {"enable_thinking": False}),
        ("multi_step_tools",
         [U("Trip"), A("", tool_calls=[call("get_weather", {"city": "Rome"})]), tool_msg("hot"),
          A("", tool_calls=[call("search", {"query": "hotels"})]), tool_msg("H1")],
         {"tools": [WEATHER_TOOL, SEARCH_TOOL]}),
        ("nested_tool_schema", [U("Event")], {"tools": [NESTED_TOOL]}),
        ("reasoning_content_ignored", [U("Q"), A("Answer", reasoning_content="hidden"), U("Q2")], {}),
        ("whitespace_content", [U("  spaced  \n"), A("\n answer \n")], {"add_generation_prompt": False}),
        ("consecutive_user_messages", [U("one"), U("two")], {}),
        ("ends_with_assistant", [U("Hi"), A("Hello there")], {"add_generation_prompt": False}),
        ("only_system", [S("Only system")], {}),
        ("empty_tools_list_is_falsy", [U("Hi")], {"tools": []}),
        ("error_user_content_none", [{"role": "user", "content": None}], {}),
    ]


def conversation_cases(template_text, conversations, special_tokens):
    cases = []
    for name, messages, extra in conversations:
        # What apply_chat_template passes: messages, tools, documents, add_generation_prompt,
        # the special tokens map, then the caller's extra kwargs (enable_thinking, ...).
        context = {"messages": messages, "tools": extra.get("tools"), "documents": None,
                   "add_generation_prompt": extra.get("add_generation_prompt", True), **special_tokens}
        for k, v in extra.items():
            if k not in ("tools", "add_generation_prompt"):
                context[k] = v
        cases.append(render_case(template_text, name, context))
    return cases


# ---- synthetic templates: one Jinja feature each ---------------------------------------------

PEOPLE = [{"name": "Ann", "age": 31, "admin": True}, {"name": "bob", "age": 25, "admin": False},
          {"name": "Cy", "age": 40}, {"name": "ann", "age": 31, "admin": True}]

FEATURES = [
    ("text_only", "plain text\nsecond line\n", {}),
    ("print_literals", "{{ 1 }}|{{ -2 }}|{{ 1.5 }}|{{ 'a\\'b' }}|{{ \"q\\\"\" }}|{{ true }}|{{ False }}|{{ none }}|{{ None }}", {}),
    ("string_escapes", "{{ 'tab\\tnl\\nbs\\\\ \\u00e9 \\x41 \\U0001F600' }}", {}),
    ("adjacent_strings", "{{ 'a' 'b' \"c\" }}", {}),
    ("float_repr", "{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 10 / 4 }} {{ 3.0 }} {{ 2 ** -1 }}", {}),
    ("arithmetic", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 6 * 7 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ true + 1 }}", {}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 1 ~ (2 + 3) }} {{ 2 * 3 ~ 4 }} {{ not 1 == 2 }}", {}),
    ("string_ops", "{{ 'ab' + 'cd' }} {{ 'ab' ~ 1 ~ none }} {{ 'xy' * 3 }} {{ 2 * [1] }}", {}),
    ("comparisons", "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ 'abc' < 'abd' }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2 }} {{ 1 <= 0 }} {{ true == 1 }}", {}),
    ("logic_returns_operands", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }} {{ none or [] }} {{ not none }} {{ x or 'dflt' }}", {}),
    ("membership", "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in d }} {{ 'z' not in d }} {{ 3 not in [1] }} {{ 'a' in undefined_var }}", {"d": {"k": 1}}),
    ("conditional_expression", "{{ 'yes' if x else 'no' }}|{{ 'only' if false }}|{{ 1 if none else 2 if true else 3 }}", {"x": 0}),
    ("if_elif_else", "{% for n in [1, 2, 3, 4] %}{% if n == 1 %}one{% elif n == 2 %}two{% elif n == 3 %}three{% else %}many{% endif %},{% endfor %}", {}),
    ("for_loop_variables", "{% for x in ['a', 'b', 'c'] %}{{ loop.index0 }}{{ loop.index }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ x }};{% endfor %}", {}),
    ("for_loop_prev_next_cycle", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}|{{ loop.nextitem }}|{{ loop.cycle('odd', 'even') }}]{% endfor %}", {}),
    ("for_else", "{% for x in [] %}item{% else %}empty{% endfor %}|{% for x in [1] %}item{% else %}empty{% endfor %}", {}),
    ("for_filter", "{% for p in people if p.age > 26 %}{{ loop.index }}/{{ loop.length }}:{{ p.name }} {% endfor %}", {"people": PEOPLE}),
    ("for_dict_and_unpack", "{% for k in d %}{{ k }},{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d|items %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("for_string", "{% for c in 'héllo' %}[{{ c }}]{% endfor %}", {}),
    ("nested_loops_scoping", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}-{{ loop.index }} {% endfor %}", {}),
    ("set_scoping_in_loop", "{% set x = 'outer' %}{% for i in [1, 2] %}{% if loop.first %}{% set x = 'inner' %}{% endif %}[{{ x }}]{% endfor %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(count=0, seen=[], flag=false) %}{% for i in range(5) %}{% set ns.count = ns.count + i %}{% if i == 3 %}{% set ns.flag = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.flag }} {{ ns.seen }}", {}),
    ("set_tuple_and_block", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set block %}inside {{ a }}\n{% endset %}[{{ block }}]", {}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', '?') }} {{ greet(punct='.', name='Cy') }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(6) }}", {}),
    ("break_continue", "{% for i in range(10) %}{% if i % 2 == 0 %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("whitespace_control", "a  {{- ' b ' -}}  c\n  {%- if true -%}\n  d  \n{%- endif %}\ne {#- comment -#} f", {}),
    ("trim_and_lstrip_blocks", "<ul>\n  {% for x in [1, 2] %}\n    <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n  {# comment line #}\nend  {% if true %}\nx\n{% endif %}", {}),
    ("plus_disables_lstrip_and_trim", "line\n  {%+ if true +%}\nkept\n  {%+ endif %}\n", {}),
    ("raw_block", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}!", {}),
    ("comments", "a{# one #}b{#\nmulti\nline\n#}c", {}),
    ("subscripts_and_slices", "{{ l[0] }} {{ l[-1] }} {{ l[1:3] }} {{ l[::-1] }} {{ l[::2] }} {{ l[-2:] }} {{ 'abcdef'[1:4] }} {{ 'héllo'[::-1] }} {{ d['k'] }} {{ d.k }} {{ l[10] }}|{{ d.missing }}|", {"l": [1, 2, 3, 4, 5], "d": {"k": "v"}}),
    ("dict_method_vs_key", "{{ d['items'] }} {{ d.get('k') }} {{ d.get('nope', 'dflt') }} {{ d.get('nope') }} {{ d.keys()|list }} {{ d.values()|list }}", {"d": {"items": "key-wins", "k": 1}}),
    ("literals_list_dict_tuple", "{{ [1, 'two', [3]] }} {{ {'a': 1, 'b': [true, none]} }} {{ (1, 2) }} {{ (1,) }} {{ () }} {{ {'q': \"it's\"} }}", {}),
    ("tests_types", "{{ x is defined }} {{ y is undefined }} {{ n is none }} {{ s is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ d is mapping }} {{ l is iterable }} {{ s is iterable }} {{ l is sequence }} {{ true is boolean }} {{ 1 is boolean }} {{ 1 is integer }} {{ 1.0 is float }}", {"x": 1, "n": None, "s": "str", "d": {}, "l": []}),
    ("tests_values", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby(3) }} {{ 9 is divisibleby 4 }} {{ 2 is eq 2 }} {{ 'a' is in 'cat' }} {{ 3 is gt(2) }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ none is not none }} {{ x is not defined }}", {}),
    ("filter_tojson", "{{ d|tojson }}\n{{ d|tojson(indent=2) }}\n{{ [1, 'é', none]|tojson }}\n{{ 'quote\"<tag>&'|tojson }}\n{{ d|tojson(sort_keys=true) }}\n{{ {}|tojson(indent=4) }}{{ []|tojson }}\n{{ d|tojson(separators=(',', ':')) }}\n{{ 'é😀\x7f'|tojson(ensure_ascii=true) }}", {"d": {"z": 1, "a": [1.5, True, None, {"n": "日本"}], "e": {}}}),
    ("filter_strings", "{{ '  x  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ 'MiXed'|lower }}|{{ 'MiXed'|upper }}|{{ 'hello WORLD'|capitalize }}|{{ 'hello big-world (x)'|title }}|{{ 'a-b-c'|replace('-', '+') }}|{{ 'aaa'|replace('a', 'b', 2) }}", {}),
    ("filter_length_count", "{{ 'héllo'|length }} {{ [1, 2]|count }} {{ {'a': 1}|length }} {{ undefined_thing|length }}", {}),
    ("filter_conversion", "{{ '42'|int }} {{ '3.9'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '2.5'|float }} {{ 'bad'|float }} {{ 5|string }}{{ none|string }} {{ 7|float }}", {}),
    ("filter_lists", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ [1, 2]|first }} {{ [1, 2]|last }} {{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }} {{ 'ab'|list }} {{ ['a', 'A', 'b', 'a']|unique|list }} {{ [1, 2, 3]|join(', ') }} {{ [1, 2, 3]|sum }} {{ [3, 1]|min }} {{ [3, 1]|max }}", {}),
    ("filter_attr_based", "{{ people|map(attribute='name')|join(',') }} {{ people|selectattr('admin')|map(attribute='name')|list }} {{ people|rejectattr('admin')|map(attribute='name')|list }} {{ people|selectattr('age', 'equalto', 31)|list|length }} {{ people|sort(attribute='age')|map(attribute='name')|join }} {{ people|map(attribute='nick', default='-')|join }} {{ people|map(attribute='name')|map('upper')|join }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 0, 2]|reject|list }} {{ people|unique(attribute='name')|map(attribute='name')|join }} {{ people|sum(attribute='age') }}", {"people": PEOPLE}),
    ("filter_default", "{{ missing|default('dflt') }} {{ ''|default('dflt') }} {{ ''|default('dflt', true) }} {{ none|d('x') }} {{ 0|default(5) }}", {}),
    ("filter_misc", "{{ -3|abs }} {{ (-2.5)|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 7|round }} {{ '<a href=\"x\">'|escape }} {{ 'x'|safe }} {{ {'b': 1, 'A': 2}|dictsort }} {{ 'one two  three'|wordcount }}", {}),
    ("filter_indent", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(width='> ', blank=true) }}|", {}),
    ("filter_block", "{% filter upper %}shout {{ 'this' }}{% endfilter %}", {}),
    ("string_methods", "{{ s.startswith('He') }} {{ s.endswith(('x', 'ld')) }} {{ s.split(' ') }} {{ '  a  b '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'xxhixx'.strip('x') }} {{ '  hi '.lstrip() }}|{{ '  hi '.rstrip() }}| {{ s.replace('l', 'L') }} {{ s.upper() }} {{ s.lower() }} {{ s.find('o') }} {{ s.find('z') }} {{ s.count('l') }} {{ '-'.join(['a', 'b']) }} {{ 'hello world'.title() }} {{ 'ab'.capitalize() }} {{ '123'.isdigit() }} {{ 'a\\nb'.splitlines() }}", {"s": "Hello World"}),
    ("unicode_methods", "{{ s|length }} {{ s[1] }} {{ s.find('ß') }} {{ s.split('é') }} {{ s|upper }} {{ s.strip('\\u3000') }}", {"s": "\u3000réglé ß 日本\u3000"}),
    ("range_function", "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }} {{ range(0)|list }}", {}),
    ("dict_function_and_namespace_dict", "{{ dict(a=1, b='x') }} {% set ns = namespace({'k': 5}) %}{{ ns.k }}", {}),
    ("raise_exception", "{% if messages|length == 0 %}{{ raise_exception('No messages given!') }}{% endif %}ok", {"messages": []}),
    ("generation_block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %}", {"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}),
    ("print_containers_repr", "{{ ['it\\'s', \"say \\\"x\\\"\", 'both \\' \"', 'nl\\n', 'é'] }} {{ {'k': ['v', 1.0, none, false]} }}", {}),
    ("undefined_printing_and_iteration", "[{{ nothing }}][{% for x in nothing %}x{% endfor %}][{{ nothing|default('d') }}][{{ nothing ~ 'x' }}][{{ obj.missing }}][{{ obj.missing is defined }}]", {"obj": {}}),
    ("multiline_tags", "{%\n  if true\n%}yes{%\n endif\n%}\n{{\n  'x'\n}}", {}),
    ("attribute_assignment_errors_not_leaking_loop", "{% set ns = namespace(last=none) %}{% for m in msgs %}{% set ns.last = m %}{% endfor %}{{ ns.last }}", {"msgs": ["a", "b"]}),
    ("loop_last_lookahead", "{% for m in msgs %}{% if not loop.last and msgs[loop.index0 + 1] == m %}dup:{% endif %}{{ m }} {% endfor %}", {"msgs": ["a", "a", "b"]}),
    # Idioms of other model families' templates (written for these tests).
    ("idiom_system_split_and_alternation",
     "{{- bos_token }}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}"
     "{%- set messages = messages[1:] %}{%- else %}{%- set system_message = '' %}{%- endif %}"
     "{%- for message in messages %}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
     "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}"
     "{%- if message['role'] == 'user' %}{{- '[INST] ' + (system_message + '\n\n' if loop.first and system_message else '') + message['content'] + ' [/INST]' }}"
     "{%- else %}{{- ' ' + message['content']|trim + eos_token }}{%- endif %}{%- endfor %}",
     {"bos_token": "<s>", "eos_token": "</s>", "messages": [
         {"role": "system", "content": "  Sys  "}, {"role": "user", "content": "Hi"},
         {"role": "assistant", "content": " Hello "}, {"role": "user", "content": "Again"}]}),
    ("idiom_alternation_violation_raises",
     "{%- for message in messages %}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
     "{{- raise_exception('Conversation roles must alternate') }}{%- endif %}{{ message.content }}{%- endfor %}",
     {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}),
    ("idiom_content_parts",
     "{%- for m in messages %}<{{ m.role }}>{%- if m.content is string %}{{ m.content }}{%- else %}"
     "{%- for part in m.content if part.type == 'text' %}{{ part.text }}{% if not loop.last %} {% endif %}{%- endfor %}"
     "{%- endif %}</{{ m.role }}>{%- endfor %}",
     {"messages": [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image"}, {"type": "text", "text": "here"}]},
                   {"role": "assistant", "content": "ok"}]}),
    ("idiom_tool_signature_listing",
     "{%- for tool in tools %}{%- set fn = tool.function if tool.function is defined else tool %}"
     "def {{ fn.name }}({%- for name, spec in fn.parameters.properties|items %}{{ name }}: {{ spec.type }}"
     "{%- if name not in fn.parameters.required|default([]) %} = None{% endif %}{{ ', ' if not loop.last }}{%- endfor %}):\n"
     "    \"\"\"{{ fn.description|trim }}\"\"\"\n{%- endfor %}",
     {"tools": [WEATHER_TOOL, SEARCH_TOOL]}),
    ("idiom_defaults_for_missing_kwargs",
     "{%- if not add_generation_prompt is defined %}{%- set add_generation_prompt = false %}{%- endif %}"
     "{%- set thinking = enable_thinking if enable_thinking is defined else true %}"
     "[{{ add_generation_prompt }}|{{ thinking }}|{{ tools_in_user_message|default(true) }}|{{ (messages|length) % 2 }}]",
     {"messages": [1, 2, 3]}),
    ("idiom_xml_parameters_macro",
     "{%- macro extra_keys(obj, handled) %}{%- if obj is mapping %}{%- for key in obj if key not in handled %}"
     "{%- if obj[key] is mapping or (obj[key] is sequence and obj[key] is not string) %}"
     "{{- '\\n<' ~ key ~ '>' ~ (obj[key] | tojson | safe) ~ '</' ~ key ~ '>' }}"
     "{%- else %}{{- '\\n<' ~ key ~ '>' ~ (obj[key] | string) ~ '</' ~ key ~ '>' }}{%- endif %}"
     "{%- endfor %}{%- endif %}{%- endmacro %}"
     "{%- for tool in tools %}{%- if tool.function is defined %}{%- set tool = tool.function %}{%- endif %}"
     "<function><name>{{ tool.name }}</name>"
     "{%- for pname, pfields in tool.parameters.properties|items %}\n<parameter><name>{{ pname }}</name>"
     "{%- if pfields.description is defined %}<description>{{ pfields.description | trim }}</description>{%- endif %}"
     "{{- extra_keys(pfields, ['type', 'description']) }}</parameter>{%- endfor %}</function>\n{%- endfor %}"
     "{%- for call in calls %}{%- for k, v in call.arguments|items %}"
     "{%- set v = v | tojson | safe if v is mapping or (v is sequence and v is not string) else v | string %}"
     "<{{ k }}>{{ v }}</{{ k }}>{%- endfor %}{%- endfor %}",
     {"tools": [WEATHER_TOOL, SEARCH_TOOL, NESTED_TOOL],
      "calls": [{"arguments": {"city": "Oslo", "days": 3, "opts": {"a": [1, None]}, "tags": ["x", "ÿ"], "ok": True}}]}),
    # Errors jinja2 raises (the interpreter must fail too).
    ("error_undefined_attribute_of_undefined", "{{ nothing.attr }}", {}),
    ("error_list_append_is_unsafe", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("error_add_str_none", "{{ 'a' + none }}", {}),
    ("error_range_too_big", "{{ range(200000)|length }}", {}),
    ("error_division_by_zero", "{{ 1 // 0 }}", {}),
    ("error_in_none", "{{ 'a' in none }}", {}),
    ("error_tojson_undefined", "{{ nothing|tojson }}", {}),
]


# OpenAI request bodies for `longctx template`; chosen so the request maps onto the template
# context as is (string contents, object arguments): kwargs merged on top, tools None if absent.
CLI_REQUESTS = [
    ("default_thinking", {"model": "qwen3", "messages": [U("What is the capital of France?")]}),
    ("thinking_off_with_system", {"messages": [S("Answer in one word."), U("Capital of Perú? ✓")],
                                  "chat_template_kwargs": {"enable_thinking": False}, "temperature": 0.7}),
    ("tools_round_trip", {"messages": [U("Weather in Zürich?"),
                                       A("", tool_calls=[call("get_weather", {"city": "Zürich", "unit": "celsius"})]),
                                       tool_msg("{\"temp\": 18, \"sky\": \"☁\"}")],
                          "tools": [WEATHER_TOOL, SEARCH_TOOL]}),
    ("no_generation_prompt", {"messages": [U("Hi"), A("Hello!", reasoning_content="Greet back.")],
                              "add_generation_prompt": False}),
]


def cli_cases(template, special, tokenizer_json):
    import subprocess
    from tokenizers import Tokenizer
    tok = Tokenizer.from_str(subprocess.run(["zstd", "-dc", tokenizer_json], check=True,
                                            capture_output=True).stdout.decode("utf-8"))
    cases = []
    for name, request in CLI_REQUESTS:
        context = {"messages": request["messages"], "tools": request.get("tools"), "documents": None,
                   "add_generation_prompt": request.get("add_generation_prompt", True), **special,
                   **request.get("chat_template_kwargs", {})}
        prompt = ENV.from_string(template).render(**copy.deepcopy(context))
        # apply_chat_template(tokenize=True) encodes without adding special tokens.
        ids = tok.encode(prompt, add_special_tokens=False).ids
        cases.append({"name": name, "request": request, "prompt": prompt, "ids": ids})
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="tests/chat/data")
    ap.add_argument("--data", default="data", help="the repo's data/ folder with the shipped tokenizers")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    def write(name, obj):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")

    for file_name, folder, conversations in (("qwen3_cases.json", "qwen3-tokenizer", qwen3_conversations()),
                                             ("qwen25_cases.json", "qwen2.5-tokenizer", qwen25_conversations())):
        with open(os.path.join(args.data, folder, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        template = config["chat_template"]
        # transformers' special_tokens_map: the special tokens that are set (Qwen has no BOS).
        special = {k: (v["content"] if isinstance(v, dict) else v) for k, v in config.items()
                   if k in ("bos_token", "eos_token", "unk_token", "pad_token") and v is not None}
        cases = conversation_cases(template, conversations, special)
        if folder == "qwen3-tokenizer":
            write("cli_requests.json", {"cases": cli_cases(
                template, special, os.path.join(args.data, folder, "tokenizer.json.zst"))})
        write(file_name, {"source": f"data/{folder}/tokenizer_config.json", "template": template, "cases": cases})
        print(file_name, len(cases), "cases,", sum("error" in c for c in cases), "expected errors")
    features = [dict(render_case(t, n, c), template=t) for n, t, c in FEATURES]
    write("jinja_features.json", {"cases": features})
    print("jinja_features.json", len(features), "cases,", sum("error" in c for c in features), "expected errors")


if __name__ == "__main__":
    main()
