#!/usr/bin/env python3
"""Oracle for constrained decoding (tests/runtime/test_grammar.cpp, src/runtime/grammar*.cpp).

Command (from the repo root; needs `pip install jsonschema rfc3339-validator`, tested with
jsonschema 4.26 and Python 3.11):
    python3 tools/grammar_make_fixtures.py tests/runtime/data/grammar_cases.json

For each schema below, hand-written candidate documents are classified by the `jsonschema` package
(the validator class the schema's $schema names, Draft 2020-12 by default, with its FormatChecker
so that format date / date-time / uuid are checked) after strict parsing (no NaN/Infinity, no
control characters in strings):
  valid          - jsonschema accepts it; the grammar must accept it byte by byte and be complete.
  invalid        - not JSON, or jsonschema rejects it; the grammar must reject it at some byte or
                   not be complete at the end.
  outside_subset - jsonschema accepts it, but it lies outside the documented subset the grammar
                   generates (properties out of schema order, 1.0 as an integer, non-canonical enum
                   spellings, extra keys when additionalProperties is absent, whitespace beyond the
                   bounds, lone surrogates, ...); the grammar must reject it (checks the docs).
Each candidate carries the author's expectation; a disagreement with jsonschema aborts the script
(the fixture author is wrong, not the oracle). Objects are serialized in schema property order
(Python dicts keep insertion order) with json.dumps(ensure_ascii=False); Raw(...) is used verbatim.
"""
import json
import sys

import jsonschema


class Raw(str):
    """A candidate written byte for byte (syntax errors, specific whitespace, escapes)."""


def V(*docs):
    return [("v", d) for d in docs]


def I(*docs):
    return [("i", d) for d in docs]


def X(*docs):
    return [("x", d) for d in docs]


def obj(*pairs):
    return dict(pairs)


OBJ_NA = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name", "age"], "additionalProperties": False}

CASES = [
    ("simple_object", OBJ_NA,
     V({"name": "Ann", "age": 30}, Raw('{"name":"Ann","age":-5}'),
       Raw('{\n  "name": "Ann",\n  "age": 30\n}'), Raw('{ "name" : "" , "age" : 0 }'))
     + I({"name": "Ann"}, {"name": "Ann", "age": "30"}, {"name": "Ann", "age": 30, "x": 1},
         Raw('{"name":"Ann","age":30,}'), Raw('{"name":"Ann","age":030}'),
         Raw('{"name":"Ann","age":30'), Raw('{"name":"Ann","age":3.5}'),
         Raw('{"name":"A\\x","age":1}'), Raw('{"name":"Ann" "age":1}'), Raw('{name:"Ann","age":1}'),
         Raw('{"name":"Ann","age":1}}'), Raw('[]'), Raw(''))
     + X({"age": 30, "name": "Ann"}, Raw('{"name":"Ann","age":30.0}'), Raw('{"name":"Ann","age":1e2}'),
         Raw(' {"name":"Ann","age":30}'), Raw('{"name":"Ann","age":30} '))),
    ("optional_props",
     {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "number"},
                                       "c": {"type": "boolean"}},
      "required": ["b"], "additionalProperties": False},
     V({"b": 1}, {"a": "x", "b": 1}, {"b": 1, "c": True}, Raw('{"a":"","b":-0.5e-3,"c":false}'))
     + I({}, {"a": "x"}, {"b": 1, "d": 1}, {"b": None}, Raw('{"b":1,,"c":true}'))
     + X({"b": 1, "a": "x"})),
    ("additional_true",
     {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"],
      "additionalProperties": True},
     V({"id": 1}, {"id": 1, "extra": "x", "more": [1, {"a": None}]}, {"id": 1, "": 2})
     + I({"id": "1"}, {"extra": 1}, Raw('{"id":1,"extra"}'))
     + X({"extra": 1, "id": 1}, Raw('{"id":1,"e\\u0078tra":1}'))),
    ("additional_schema",
     {"type": "object", "properties": {"id": {"type": "integer"}},
      "additionalProperties": {"type": "string"}},
     V({"id": 1}, {"id": 2, "k": "v"}, {}, {"k": "v", "k2": "w"})
     + I({"id": 1, "k": 2}, {"k": None}, {"id": "x"})),
    ("additional_absent_is_closed",
     {"type": "object", "properties": {"a": {"type": "integer"}}},
     V({"a": 1}, {}) + I({"a": "x"}) + X({"a": 1, "b": 2})),
    ("any_object", {"type": "object"},
     V({}, {"k": [1, 2, {"z": None}], "k2": "v"}, {"a": {"b": {"c": {"d": [[[]]]}}}})
     + I([], "x", 1, None, Raw('{"a"}'), Raw('{"a":}'), Raw('{1:2}'))),
    ("string_lengths", {"type": "string", "minLength": 2, "maxLength": 4},
     V("ab", "abcd", "éé", "😀😀", Raw('"\\u00e9\\u00e9"'), Raw('"\\ud83d\\ude00x"'), "日本語")
     + I("a", "abcde", "", Raw('"\\ud83d\\ude00"'), 12, "😀😀😀😀😀")),
    ("string_escapes", {"type": "string"},
     V(Raw('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"'), Raw('"\\u0041\\u00e9\\uFFFF"'), "日本語",
       Raw('"\\uD834\\uDD1E"'), "\u007f", Raw('"\\u0000"'))
     + I(Raw('"\\x41"'), Raw('"\\u12"'), Raw('"abc'), Raw('"a\tb"'), Raw("'abc'"), Raw('"\\"'),
         Raw('"\n"'), Raw('"\\U0041"'))
     + X(Raw('"\\ud800"'), Raw('"\\udc00x"'), Raw('"\\ud800\\u0041"'))),
    ("numbers", {"type": "number"},
     V(0, 1.5, Raw('-0'), Raw('1e10'), Raw('1E+2'), Raw('-0.0e-0'), Raw('123456789012345678901234567890'),
       Raw('0.000001'), Raw('-12.5E-3'))
     + I(Raw('01'), Raw('+1'), Raw('.5'), Raw('1.'), Raw('1e'), Raw('-'), Raw('NaN'),
         Raw('Infinity'), Raw('-Infinity'), Raw('0x10'), "1", Raw('1e+'), Raw('- 1'), Raw('00'),
         Raw('1.2.3'))),
    ("integers", {"type": "integer"},
     V(0, -7, Raw('12345678901234567890'))
     + I(1.5, "1", Raw('-'), Raw('1.5'), Raw('-01'), True)
     + X(Raw('1.0'), Raw('2e3'), Raw('1.5e1'))),
    ("integer_minimum_zero", {"type": "integer", "minimum": 0},
     V(0, 5) + I(-1, Raw('-10')) + X(Raw('-0'))),
    ("boolean_or_null", {"type": ["boolean", "null"]},
     V(True, False, None) + I(0, "true", Raw('True'), Raw('nul'), Raw('truex'), Raw('true false'))),
    ("type_array_keywords", {"type": ["string", "integer"], "minLength": 2},
     V("ab", 5, -3) + I("a", 1.5, None)),
    ("enum_strings", {"enum": ["red", "green", "blue", "日本", "é\"q"]},
     V("red", "日本", "é\"q", "blue") + I("Red", "gree", "redd", 1)
     + X(Raw('"\\u65e5\\u672c"'), Raw('"r\\u0065d"'), Raw('"red" '))),
    ("enum_mixed", {"enum": [1, 12, "1", None, True, {"a": [1, 2]}, [1, "x"]]},
     V(1, 12, "1", None, True, {"a": [1, 2]}, [1, "x"], Raw('{ "a" : [ 1 , 2 ] }'))
     + I(2, 123, False, {"a": [1]}, [1], {"a": [1, 2], "b": 1}, Raw('1 2'))
     + X(Raw('1.0'), Raw('1e0'))),
    ("const_object", {"const": {"k": "v", "n": [True]}},
     V({"k": "v", "n": [True]}) + I({"k": "v"}, {"k": "v", "n": [False]}, "v")
     + X({"n": [True], "k": "v"})),
    ("const_with_type", {"type": "string", "const": "abc"}, V("abc") + I("abd", 1, "ab")),
    ("enum_filtered_by_siblings", {"type": "string", "enum": ["a", 1, "bb"], "maxLength": 1},
     V("a") + I("bb", 1)),
    ("array_items_bounds",
     {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3},
     V([1], [1, 2, 3], Raw('[ 1 , 2 ]'), Raw('[\n  1,\n  2\n]'))
     + I([], [1, 2, 3, 4], [1, "2"], Raw('[1,]'), Raw('[1 2]'), Raw('[1'), Raw('[,1]'), Raw('[1]]'))),
    ("prefix_items_closed",
     {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": False},
     V([], ["a"], ["a", 1]) + I([1], ["a", 1, 2], ["a", "b"])),
    ("prefix_items_then_items",
     {"type": "array", "prefixItems": [{"const": "x"}], "items": {"type": "boolean"}, "minItems": 2},
     V(["x", True], ["x", True, False]) + I(["x"], ["y", True], ["x", 1], [])),
    ("draft7_tuple_items",
     {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
      "items": [{"type": "integer"}], "additionalItems": {"type": "string"}},
     V([1], [1, "a", "b"], []) + I(["a"], [1, 2])),
    ("nested_object",
     {"type": "object",
      "properties": {
          "address": {"type": "object",
                      "properties": {"street": {"type": "string"},
                                     "zip": {"type": "string", "minLength": 5, "maxLength": 5}},
                      "required": ["street", "zip"], "additionalProperties": False},
          "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}},
      "required": ["address"], "additionalProperties": False},
     V({"address": {"street": "Main", "zip": "12345"}},
       {"address": {"street": "", "zip": "ÅÅÅÅÅ"}, "tags": ["a", "b"]})
     + I({"address": {"street": "Main", "zip": "1234"}}, {"address": {"street": "Main"}},
         {"address": {"street": "M", "zip": "12345"}, "tags": ["a", "b", "c"]}, {"tags": []})),
    ("any_of_branches",
     {"anyOf": [{"type": "string", "maxLength": 2},
                {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"],
                 "additionalProperties": False},
                {"type": "null"}]},
     V("ab", {"x": 1}, None, "") + I("abc", {"x": "1"}, {}, 1, [])),
    ("one_of_tagged",
     {"oneOf": [{"type": "object", "properties": {"kind": {"const": "a"}, "a": {"type": "integer"}},
                 "required": ["kind", "a"], "additionalProperties": False},
                {"type": "object", "properties": {"kind": {"const": "b"}, "b": {"type": "string"}},
                 "required": ["kind", "b"], "additionalProperties": False}]},
     V({"kind": "a", "a": 1}, {"kind": "b", "b": "x"})
     + I({"kind": "a", "b": "x"}, {"kind": "c"}, {"kind": "b", "b": 1}, {"kind": "a"})),
    ("any_of_shared_prefix",
     {"anyOf": [{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                 "required": ["a", "b"], "additionalProperties": False},
                {"type": "object", "properties": {"a": {"type": "integer"}, "c": {"type": "string"}},
                 "required": ["a", "c"], "additionalProperties": False}]},
     V({"a": 1, "b": 2}, {"a": 1, "c": "x"}) + I({"a": 1}, {"a": 1, "b": "x"}, {"a": 1, "c": 2})),
    ("refs_defs",
     {"$defs": {"pos": {"type": "integer", "minimum": 0},
                "pt": {"type": "object", "properties": {"x": {"$ref": "#/$defs/pos"},
                                                        "y": {"$ref": "#/$defs/pos"}},
                       "required": ["x", "y"], "additionalProperties": False}},
      "type": "array", "items": {"$ref": "#/$defs/pt"}},
     V([], [{"x": 1, "y": 2}, {"x": 0, "y": 0}]) + I([{"x": 1}], [{"x": -1, "y": 2}], [1])),
    ("refs_definitions",
     {"$schema": "http://json-schema.org/draft-07/schema#",
      "definitions": {"name": {"type": "string", "minLength": 1}},
      "type": "object", "properties": {"first": {"$ref": "#/definitions/name"}},
      "required": ["first"], "additionalProperties": False},
     V({"first": "x"}) + I({"first": ""}, {})),
    ("recursive_tree",
     {"$defs": {"node": {"type": "object",
                         "properties": {"value": {"type": "integer"},
                                        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                         "required": ["value"], "additionalProperties": False}},
      "$ref": "#/$defs/node"},
     V({"value": 1},
       {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}, {"value": 4, "children": []}]},
       Raw('{"value":0,"children":[' * 40 + '{"value":1}' + ']}' * 40))
     + I({"value": 1, "children": [{}]}, {"value": 1, "children": [{"value": "x"}]},
         Raw('{"value":0,"children":[' * 40 + '{"value":1}' + ']}' * 39))),
    ("recursive_root_ref",
     {"type": "object", "properties": {"next": {"$ref": "#"}}, "additionalProperties": False},
     V({}, {"next": {"next": {}}}) + I({"next": 1}, {"x": {}})),
    ("all_of_single",
     {"allOf": [{"$ref": "#/$defs/a"}], "description": "d", "$defs": {"a": {"type": "boolean"}}},
     V(True) + I(1, "true")),
    ("pydantic_style",
     {"title": "Model", "type": "object",
      "properties": {"name": {"title": "Name", "type": "string"},
                     "nick": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None,
                              "title": "Nick"},
                     "color": {"$ref": "#/$defs/Color"}},
      "required": ["name", "color"], "additionalProperties": False,
      "$defs": {"Color": {"enum": ["red", "blue"], "title": "Color", "type": "string"}}},
     V({"name": "a", "color": "red"}, {"name": "a", "nick": None, "color": "blue"},
       {"name": "a", "nick": "n", "color": "red"})
     + I({"name": "a", "color": "green"}, {"name": "a"}, {"name": "a", "nick": 1, "color": "red"})),
    ("required_without_properties", {"type": "object", "required": ["a", "b"]},
     V({"a": 1, "b": [2]}, {"a": 1, "b": 2, "c": 3}) + I({"a": 1}, {}) + X({"b": 1, "a": 2})),
    ("required_uses_additional_schema",
     {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "z"],
      "additionalProperties": {"type": "integer"}},
     V({"a": "x", "z": 1}, {"a": "x", "z": 1, "k": 2}) + I({"a": "x", "z": "s"}, {"a": "x"})),
    ("format_uuid", {"type": "string", "format": "uuid"},
     V("123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000")
     + I("123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
         "g23e4567-e89b-12d3-a456-426614174000", 1, "123e4567-e89b-12d3-a456-4266141740000")),
    ("format_date", {"type": "string", "format": "date"},
     V("2024-02-29", "1999-12-31", "0001-01-01", "2024-04-30")
     + I("2024-13-01", "2024-04-31", "2024-1-01", "0000-01-01", "2024-02-30", "2024-00-10",
         "2024-01-00", "2024-01-32", "24-01-01")),
    ("format_date_time", {"type": "string", "format": "date-time"},
     V("2024-01-01T00:00:00Z", "2024-01-01t23:59:59.5+05:30", "2024-01-01T10:00:00-00:00",
       "2024-12-31T12:00:00.123456z")
     + I("2024-01-01 00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00",
         "2024-01-01T00:00:60Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+2:00")),
    ("array_exact_two", {"type": "array", "minItems": 2, "maxItems": 2},
     V([1, "a"], [[], {}]) + I([1], [1, 2, 3])),
    ("nested_arrays",
     {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "maxItems": 2}},
     V([], [[]], [[1, 2], [3.5]]) + I([[1, 2, 3]], [1], [["a"]])),
    ("unicode_and_escaped_keys",
     {"type": "object", "properties": {"ключ": {"type": "string"}, "키": {"type": "integer"},
                                       "a\"b": {"type": "boolean"}, "tab\tkey": {"type": "null"}},
      "required": ["ключ"], "additionalProperties": False},
     V({"ключ": "значение"}, {"ключ": "x", "키": 1, "a\"b": True, "tab\tkey": None})
     + I({"ключ": "x", "키": "1"}, {"клю": "x"}, {"ключ": "x", "ab": True})
     + X(Raw('{"\\u043a\\u043b\\u044e\\u0447":"x"}'))),
    ("empty_schema", {},
     V(1, "x", {"a": []}, None, [True]) + I(Raw('{'), Raw(''), Raw('tru'), Raw('[1,]'))),
    ("true_schema", True, V(1, {"a": 1}) + I(Raw('x'))),
    ("boolean_subschemas",
     {"type": "object", "properties": {"a": True, "b": False}, "additionalProperties": False},
     V({}, {"a": [1]}) + I({"b": 1}, {"c": 1})),
    ("nullable_object",
     {"type": ["object", "null"], "properties": {"a": {"type": "integer"}}, "required": ["a"],
      "additionalProperties": False},
     V(None, {"a": 1}) + I({}, 1)),
    ("whitespace_bounds",
     {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}},
      "additionalProperties": False},
     V(Raw('{\n  "a": [\n    1,\n    2\n  ]\n}'), Raw('{"a":[]}'), Raw('{\t"a"\t:\t[ ]\t}'),
       Raw('{\r\n"a": []\r\n}'), Raw('{' + ' ' * 48 + '"a": []}'))
     + I(Raw('{"a":[]'))
     + X(Raw('{"a":\n\n[]}'), Raw('{"a": []} '), Raw('{' + ' ' * 49 + '"a": []}'), Raw('\n{"a":[]}'))),
    ("number_enum_canonical", {"type": "number", "enum": [1.5, -2, 1e100]},
     V(1.5, -2, Raw('1e+100')) + I(1.25, Raw('2')) + X(Raw('1E100'), Raw('-2.0'))),
    ("const_null", {"const": None}, V(None) + I(False, 0)),
    ("max_items_zero", {"type": "array", "maxItems": 0}, V([]) + I([1])),
    ("tool_arguments",
     {"type": "object",
      "properties": {"location": {"type": "string", "description": "City"},
                     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                     "days": {"type": "integer", "minimum": 1}},
      "required": ["location", "unit", "days"], "additionalProperties": False},
     V({"location": "Paris, FR", "unit": "celsius", "days": 3})
     + I({"location": "Paris", "unit": "kelvin", "days": 3}, {"location": "Paris", "unit": "celsius"})),
]


def strict_loads(text):
    def no_constant(name):
        raise ValueError("not JSON: " + name)
    return json.loads(text, parse_constant=no_constant)


def classify(schema, text):
    try:
        doc = strict_loads(text)
    except ValueError:
        return False
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    v = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return v.is_valid(doc)


def main():
    out_path = sys.argv[1]
    cases = []
    for name, schema, docs in CASES:
        case = {"name": name, "schema": schema, "valid": [], "invalid": [], "outside_subset": []}
        for tag, d in docs:
            text = d if isinstance(d, Raw) else json.dumps(d, ensure_ascii=False)
            ok = classify(schema, text)
            if tag == "v" and not ok or tag in ("i",) and ok:
                sys.exit(f"{name}: jsonschema says {'valid' if ok else 'invalid'} for {text!r}, "
                         f"expected {tag}")
            if tag == "x" and not ok:
                sys.exit(f"{name}: {text!r} is invalid per jsonschema; list it as invalid")
            case["valid" if tag == "v" else "invalid" if tag == "i" else "outside_subset"].append(text)
        cases.append(case)
    header = ("Made by: python3 tools/grammar_make_fixtures.py tests/runtime/data/grammar_cases.json "
              f"(jsonschema {__import__('importlib.metadata').metadata.version('jsonschema')}); "
              "classification by jsonschema with its FormatChecker. Do not edit by hand.")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"about": header, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n = sum(len(c["valid"]) + len(c["invalid"]) + len(c["outside_subset"]) for c in cases)
    print(f"wrote {len(cases)} schemas, {n} documents to {out_path}")


if __name__ == "__main__":
    main()
