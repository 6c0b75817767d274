"""ApiFunction's own code: its routes (one Powertools Router per area, in `routes`), the request and response
models they are typed with, the parameters, the OpenAPI finishing touches and the dashboard page.

Shipped with ApiFunction only (it sits beside app.py, in the function's CodeUri), not in the core layer that
every function loads: no other function serves HTTP routes. The name is unique on purpose: the local stack
loads every function in one process (infra/local/lambda_loader.py).
"""
