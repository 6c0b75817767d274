"""The catalog: the prices the price detector compares against.

The same writes for two kinds of caller, on two routes: API Gateway (REST) guards a method with the API key or
with the Cognito authorizer, never "either". The shop's systems use /products with the key; a signed-in admin
uses /admin/products with a token. One handler body each, one catalog service, each change recorded under who
made it (changed_by: "shop" or the admin's user name).
"""

from aws_lambda_powertools.event_handler.api_gateway import Router

from shopwatch.auth.callers import Action
from shopwatch.catalog.service import CatalogService
from shopwatch.domain.clock import utcnow
from shopwatch_api.acting import acting
from shopwatch_api.models import ProductIn, ProductsIn
from shopwatch_api.params import Sku
from shopwatch_api.responses import ProductOut, ProductsStored


def router(catalog: CatalogService) -> Router:
    router = Router()

    def _put_product(sku: str, product: ProductIn, by: str) -> ProductOut:
        return ProductOut.from_record(catalog.put(sku, product.price, product.currency, product.name, by, utcnow()))

    def _put_products(body: ProductsIn, by: str) -> ProductsStored:
        rows: list[tuple[str, object, str | None, str | None]] = [
            (p.sku, p.price, p.currency, p.name) for p in body.products
        ]
        return ProductsStored(stored=catalog.put_many(rows, by, utcnow()))

    @router.put("/products/<sku>")
    def put_product(sku: Sku, product: ProductIn) -> ProductOut:
        """Set a product's catalog price (the price detector's reference), with the shop's API key."""
        return _put_product(sku, product, acting(router, Action.WRITE_CATALOG))

    @router.post("/products")
    def post_products(body: ProductsIn) -> ProductsStored:
        """Up to 500 products at once, with the shop's API key; one bad row refuses the whole request, storing nothing."""
        return _put_products(body, acting(router, Action.WRITE_CATALOG))

    @router.put("/admin/products/<sku>")
    def admin_put_product(sku: Sku, product: ProductIn) -> ProductOut:
        """PUT /products/{sku} for a person signed in as an admin (an analyst gets 403); recorded under their name."""
        return _put_product(sku, product, acting(router, Action.WRITE_CATALOG, person=True))

    @router.post("/admin/products")
    def admin_post_products(body: ProductsIn) -> ProductsStored:
        """POST /products for a person signed in as an admin (an analyst gets 403); recorded under their name."""
        return _put_products(body, acting(router, Action.WRITE_CATALOG, person=True))

    @router.get("/products/<sku>")
    def get_product(sku: Sku) -> ProductOut:
        """A product's catalog entry, with who set it last."""
        return ProductOut.from_record(catalog.get(sku))

    return router
