"""Customers: the list, one customer's profile, and their recent transactions through one metric."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from shopwatch.customers.anomalies import Metric
from shopwatch.customers.service import CustomerService
from shopwatch_api.params import CustomerId, Limit, PageToken
from shopwatch_api.responses import CustomerAnomalies, CustomerDetail, CustomerPage


def router(customers: CustomerService) -> Router:
    router = Router()

    @router.get("/customers")
    def list_customers(
        limit: Limit = 50,
        next_token: PageToken = None,
    ) -> CustomerPage:
        """Customers, most recently active first."""
        return CustomerPage.from_page(customers.list(limit, next_token))

    @router.get("/customers/<customer_id>")
    def get_customer(customer_id: CustomerId) -> CustomerDetail:
        """A customer's profile, recent alerts and recent transactions."""
        return CustomerDetail.from_view(customers.detail(customer_id))

    @router.get("/customers/<customer_id>/anomalies")
    def customer_anomalies(
        customer_id: CustomerId, metric: Annotated[Metric, Query()] = Metric.AMOUNT
    ) -> CustomerAnomalies:
        """A customer's recent transactions through one metric: chart data, baseline and drill-down rows."""
        return CustomerAnomalies.from_view(customer_id, customers.anomalies(customer_id, metric))

    return router
