"""Reading template.yaml: the single source of truth for resources, also for tests and the local stack.

CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...) load as their long forms, and `resolve` evaluates
the intrinsic functions that properties and environment variables use, with parameters and the names
that the local resources were given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"

_TAGS = {
    "Ref": "Ref", "GetAtt": "Fn::GetAtt", "Sub": "Fn::Sub", "If": "Fn::If", "Equals": "Fn::Equals",
    "Not": "Fn::Not", "And": "Fn::And", "Or": "Fn::Or", "Join": "Fn::Join", "Select": "Fn::Select",
    "Split": "Fn::Split", "FindInMap": "Fn::FindInMap", "Base64": "Fn::Base64", "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue", "Condition": "Condition", "Cidr": "Fn::Cidr", "ToJsonString": "Fn::ToJsonString",
}  # fmt: skip


class _CfnLoader(yaml.SafeLoader):
    pass


def _constructor(long_name: str):
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {long_name: value}

    return construct


for _short, _long in _TAGS.items():
    _CfnLoader.add_constructor(f"!{_short}", _constructor(_long))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass with CFN tags


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameter values and local resource names/attributes."""

    template: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)  # logical id -> what Ref returns
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)  # (logical id, attr) -> value
    region: str = "us-east-1"
    account: str = "123456789012"

    def parameter(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        spec = self.template.get("Parameters", {})[name]
        default = spec.get("Default")
        if spec["Type"] == "CommaDelimitedList":
            return [p.strip() for p in str(default).split(",")] if default else []
        return default

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        match key:
            case "Ref":
                return self._ref(arg)
            case "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attributes[(logical, attribute)]
            case "Fn::Sub":
                return self._sub(arg)
            case "Fn::Join":
                return arg[0].join(str(self.resolve(v)) for v in self.resolve(arg[1]))
            case "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            case "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            case "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            case "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            case "Fn::Not":
                return not self.resolve(arg[0])
            case "Fn::And":
                return all(self.resolve(a) for a in arg)
            case "Fn::Or":
                return any(self.resolve(a) for a in arg)
            case "Condition":
                return self.condition(arg)
            case _:
                return {key: self.resolve(arg)}

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::URLSuffix": "amazonaws.com",
                  "AWS::Partition": "aws", "AWS::StackName": "shopwatch-local", "AWS::NoValue": None}  # fmt: skip
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        return self.refs[name]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self.attributes[(logical, attribute)])
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)
