"""Checks Envoy configuration against Envoy's own API types, the way Envoy loads it.

Used by host-sim's tests (host-sim/tests/deploy.rs); not a user tool.

    python3 envoy_check.py MESSAGE FILE     e.g. envoy.config.bootstrap.v3.Bootstrap envoy.yaml
    python3 envoy_check.py yaml-to-json FILE

MESSAGE FILE: FILE (YAML or JSON, one document) is loaded with PyYAML, as Envoy turns YAML into
JSON, then parsed into MESSAGE with protobuf's JSON parser, rejecting unknown fields. Every
`@type` is resolved into its message from the xds-protos package (Envoy's data-plane-api), so
the insides of `typed_config` are checked too. Then every message, including those inside Any,
must pass Envoy's protoc-gen-validate rules (ranges, required fields, lengths), and no field or
enum value Envoy marks deprecated may be set. Exit 0 when clean, 1 with the reasons, 3 when a
package is missing.

yaml-to-json FILE: prints the documents of a YAML stream as one JSON array (PyYAML, YAML 1.1, as
kubectl and Envoy read YAML), so that other checks see exactly what those tools would.
"""

import importlib
import json
import pkgutil
import sys

INSTALL = "pip install -r host-sim/tests/schema/requirements.txt"

try:
    import yaml
    from google.protobuf import any_pb2, descriptor, descriptor_pool, json_format, message_factory
    from protoc_gen_validate.validator import ValidationFailed, validate_all
    import envoy  # noqa: F401  (xds-protos)
except ImportError as missing:
    print(f"envoy_check.py: {missing}; install the schema packages with: {INSTALL}", file=sys.stderr)
    sys.exit(3)


def import_package(package):
    """Imports every generated module of a proto package, registering its messages."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        return
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if info.name.endswith("_pb2"):
            importlib.import_module(f"{package}.{info.name}")


def type_names(node):
    """Every `@type` in a JSON tree, as a full message name."""
    if isinstance(node, dict):
        url = node.get("@type")
        if isinstance(url, str):
            yield url.rsplit("/", 1)[-1]
        for value in node.values():
            yield from type_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from type_names(value)


def message_class(name):
    pool = descriptor_pool.Default()
    try:
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
    except KeyError:
        import_package(name.rsplit(".", 1)[0])
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def walk(message, path, problems, validate=True):
    """Checks one message and everything inside it, unpacking Any.

    protoc-gen-validate checks nested messages by itself but cannot see inside an Any, so its
    rules run on the root and on each unpacked Any; deprecation is checked field by field.
    """
    if validate:
        try:
            validate_all(message)
        except ValidationFailed as failed:
            problems.append(f"{path}: {failed}")
    for field, value in message.ListFields():
        where = f"{path}.{field.name}"
        if field.GetOptions().deprecated:
            problems.append(f"{where}: deprecated in Envoy's API")
        repeated = is_repeated(field)
        values = list(value) if repeated else [value]
        if field.type == descriptor.FieldDescriptor.TYPE_ENUM:
            for number in values:
                enum_value = field.enum_type.values_by_number.get(number)
                if enum_value is not None and enum_value.GetOptions().deprecated:
                    problems.append(f"{where}: {enum_value.name} is deprecated in Envoy's API")
        if field.type != descriptor.FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].type != descriptor.FieldDescriptor.TYPE_MESSAGE:
                continue
            items = [(f"{where}[{key!r}]", value[key]) for key in sorted(value)]
        else:
            items = [(f"{where}[{i}]" if repeated else where, item) for i, item in enumerate(values)]
        for item_path, item in items:
            if isinstance(item, any_pb2.Any):
                inner = message_class(item.TypeName())()
                item.Unpack(inner)
                walk(inner, f"{item_path}<{item.TypeName()}>", problems)
            else:
                walk(item, item_path, problems, validate=False)


def is_repeated(field):
    flag = getattr(field, "is_repeated", None)
    if flag is not None:
        return flag() if callable(flag) else flag
    return field.label == descriptor.FieldDescriptor.LABEL_REPEATED


def check(message_name, path):
    with open(path, encoding="utf-8") as file:
        document = yaml.safe_load(file)
    for name in sorted(set(type_names(document))):
        try:
            message_class(name)
        except KeyError:
            print(f"{path}: unknown @type {name!r}: no such message in Envoy's API", file=sys.stderr)
            return 1
    message = message_class(message_name)()
    try:
        json_format.Parse(json.dumps(document), message, ignore_unknown_fields=False)
    except json_format.ParseError as error:
        print(f"{path}: not a valid {message_name}: {error}", file=sys.stderr)
        return 1
    problems = []
    walk(message, message_name.rsplit(".", 1)[-1], problems)
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "yaml-to-json":
        with open(argv[2], encoding="utf-8") as file:
            print(json.dumps([d for d in yaml.safe_load_all(file) if d is not None]))
        return 0
    if len(argv) == 3:
        return check(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
