"""Saving a rule checks its expression against the documented variables, with the problem's position, and
refuses what is too large or too costly (hostile expressions included)."""

import pytest

from shopwatch.rules.expressions import MAX_EXPRESSION_CHARS, check


def only(expression: str):
    problems = check(expression)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize(
    "expression",
    [
        "tx.amount > 500.0 && account.age_seconds < 3600.0",
        'listed("bad_devices", tx.device_id) || entities.device.accounts_30d > 3',
        'tx.items.exists(i, i.unit_price > 100.0) && tx.timestamp - tx.account_created_at < duration("1h")',
        'has(tx.email) && tx.email.endsWith("@example.com") && tx.country in ["NG", "RU"]',
        "findings.price > 0.5 || scores.risk > 80.0 || scores.model > 0.7",
        'account.first_purchase && tx.email.matches("^[a-z]+[0-9]{4,}@")',
    ],
)
def test_documented_variables_and_functions_are_accepted(expression):
    assert check(expression) == []


def test_a_misspelt_field_is_refused_with_its_line_and_column():
    problem = only("tx.amount > 1.0 &&\n  tx.amout > 2.0")
    assert "amout" in problem.message
    assert (problem.line, problem.column) == (2, 5)


def test_comparing_a_double_with_an_int_explains_how_to_write_it():
    problem = only("tx.amount > 500")
    assert "write 500.0" in problem.message
    assert problem.column == 11


def test_a_wrong_type_is_refused():
    assert "no matching overload" in only('tx.amount > "500"').message


def test_a_syntax_error_has_its_position():
    problem = only("tx.amount >")
    assert "Syntax error" in problem.message
    assert (problem.line, problem.column) == (1, 12)


def test_an_unknown_function_is_refused():
    problem = only("system('rm -rf /')")
    assert "undeclared reference to 'system'" in problem.message


def test_an_unknown_variable_is_refused():
    assert "undeclared reference to 'customer.age'" in only("customer.age > 1.0").message


def test_an_expression_that_is_not_true_or_false_is_refused():
    assert "gives a double" in only("tx.amount * 2.0").message


def test_deep_nesting_is_refused():
    assert "recursion limit" in only("(" * 200 + "true" + ")" * 200).message


def test_a_huge_literal_is_refused_by_the_length_limit():
    problem = only('tx.email == "' + "a" * 100_000 + '"')
    assert f"at most {MAX_EXPRESSION_CHARS}" in problem.message


def test_a_comprehension_inside_another_is_refused_with_its_position():
    problem = only("tx.items.exists(i, tx.items.exists(j, j.quantity > i.quantity))")
    assert "inside another" in problem.message
    assert problem.column == 29


def test_more_than_two_comprehensions_are_refused():
    expression = " && ".join(["tx.items.exists(i, i.quantity > 1)"] * 3)
    assert "at most 2" in only(expression).message


def test_macro_names_inside_strings_are_not_counted():
    assert check('tx.email == ".exists(" && tx.items.exists(i, i.sku == ".map(")') == []


def test_a_malformed_regular_expression_is_refused():
    assert "invalid regular expression" in only('tx.email.matches("(")').message


def test_an_empty_expression_is_refused():
    assert only("   ").message == "the expression is empty"
