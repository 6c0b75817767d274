"""Compiling and checking CEL expressions: what is refused when a rule is saved, with the problem's position.

CEL itself is safe (no loops, no I/O, RE2 regexes that run in linear time) and cel-cpp's parser refuses nesting
past 32 levels and sources past 100,000 code points. Our limits are tighter, so that every active rule stays
cheap on every transaction:
- MAX_EXPRESSION_CHARS characters (a rule is a condition, not a program; it also caps any literal);
- MAX_COMPREHENSIONS macros (all, exists, exists_one, map, filter) and none nested in another: the longest list a
  rule can iterate is a basket (500 items), so an expression costs at most a few thousand steps;
- the result must be a bool.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import cel_expr_python.cel as cel

from shopwatch.rules import variables

MAX_EXPRESSION_CHARS = 2_000
MAX_COMPREHENSIONS = 2
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_ERROR_LINE = re.compile(r"ERROR: <input>:(-?\d+):(-?\d+): (.*)")
_TOKEN = re.compile(
    r"""(?P<string>[rR]?(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'))|(?P<macro>\.\s*(?P<name>[A-Za-z_]\w*)\s*\()|(?P<open>[(\[{])|(?P<close>[)\]}])"""
)
_NUMERIC_MIX = re.compile(r"applied to '\((?:double, int|int, double|double, uint|uint, double)\)'")


@dataclass(frozen=True)
class ExpressionProblem:
    message: str
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "line": self.line, "column": self.column}


class InvalidExpression(ValueError):
    def __init__(self, problems: list[ExpressionProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _listed_placeholder(name: str, value: str) -> bool:
    """The declared `listed`; the engine binds each evaluation to its lists through LISTED_BINDING."""
    return LISTED_BINDING.matcher(name, value)


class _ListedBinding:
    """Where `listed` looks: cel-cpp takes a function's implementation when the environment is made, so the
    environment calls through this holder, which the engine points at its lists while it evaluates."""

    def __init__(self) -> None:
        self.matcher = _nothing_listed

    def bind(self, matcher: Any) -> None:
        self.matcher = matcher


def _nothing_listed(name: str, value: str) -> bool:
    return False


LISTED_BINDING = _ListedBinding()


@functools.cache
def environment() -> Any:
    """The one CEL environment (variables and `listed`), made once per process (~0.1 ms)."""
    t = cel.Type
    listed = cel.FunctionDecl(
        "listed",
        [cel.Overload("listed_string_string", t.BOOL, [t.STRING, t.STRING], impl=_listed_placeholder)],
    )
    declared = {name: t(f"{variables.PACKAGE}.{message}") for name, (message, _) in variables.VARIABLES.items()}
    return cel.NewEnv(descriptor_pool=variables.pool(), variables=declared, functions=[listed])


def check(expression: str) -> list[ExpressionProblem]:
    """Every problem with `expression` (empty when it can be saved)."""
    try:
        compile_expression(expression)
    except InvalidExpression as invalid:
        return invalid.problems
    return []


def compile_expression(expression: str) -> Any:
    """The checked, compiled expression, or InvalidExpression with each problem and where it is."""
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidExpression([ExpressionProblem("the expression is empty")])
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise InvalidExpression(
            [ExpressionProblem(f"the expression has {len(expression)} characters; at most {MAX_EXPRESSION_CHARS}")]
        )
    try:
        compiled = environment().compile(expression)
    except RuntimeError as error:
        raise InvalidExpression(_problems(str(error))) from None
    problems = _comprehension_problems(expression)
    if problems:
        raise InvalidExpression(problems)
    if compiled.return_type() != cel.Type.BOOL:
        kind = compiled.return_type().name().lower()
        raise InvalidExpression([ExpressionProblem(f"a rule must be true or false; this expression gives a {kind}")])
    regex = _regex_problem(compiled)
    if regex:
        raise InvalidExpression([regex])
    return compiled


def _regex_problem(compiled: Any) -> ExpressionProblem | None:
    """A malformed regular expression literal, found by one evaluation over empty values: RE2 compiles a
    pattern when it first runs, and the checker does not look inside strings. Other errors of that evaluation
    (a missing key, a division by zero of the empty values) say nothing about real transactions."""
    env = environment()
    empty = {name: variables.message_class(message)() for name, (message, _) in variables.VARIABLES.items()}
    result = compiled.eval(env.Activation(empty))
    if result.type() == cel.Type.ERROR and "invalid regular expression" in str(result.value()):
        return ExpressionProblem(str(result.value()).split(": ", 1)[-1])
    return None


def _problems(text: str) -> list[ExpressionProblem]:
    found = []
    for match in _ERROR_LINE.finditer(text):
        line, column, message = int(match.group(1)), int(match.group(2)), match.group(3).strip()
        if _NUMERIC_MIX.search(message):
            message += " (CEL does not mix int and double: write 500.0 rather than 500, or double(x))"
        message = message.replace(" (in container '')", "")
        found.append(ExpressionProblem(message, line if line > 0 else None, column if column > 0 else None))
    if not found:
        message = text.split("\n", 1)[0]
        message = re.sub(r"^[A-Z_]+: ", "", message).replace(" [INVALID_ARGUMENT]", "").replace(" [CANCELLED]", "")
        found.append(ExpressionProblem(message))
    return found


def _comprehension_problems(expression: str) -> list[ExpressionProblem]:
    """Macros counted and nesting found by a small scan (strings skipped): the checked AST is not exposed by
    the bindings, and the parser has already accepted the text, so brackets balance."""
    stack: list[bool] = []  # per open bracket: whether it opened a macro's arguments
    macros = 0
    for token in _TOKEN.finditer(expression):
        if token.group("string"):
            continue
        if token.group("macro"):
            is_macro = token.group("name") in _MACROS
            if is_macro:
                macros += 1
                if any(stack):
                    line, column = _position(expression, token.start() + 1)
                    return [ExpressionProblem("a comprehension inside another is too costly", line, column)]
            stack.append(is_macro)
        elif token.group("open"):
            stack.append(False)
        elif stack:
            stack.pop()
    if macros > MAX_COMPREHENSIONS:
        return [ExpressionProblem(f"{macros} comprehensions (all, exists, map, filter); at most {MAX_COMPREHENSIONS}")]
    return []


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
