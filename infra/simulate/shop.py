"""A deterministic shop: a catalog with prices, and customers with a home country and basket habits."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from shopwatch.detectors.history import CatalogEntry

PRODUCTS = [
    ("LAPTOP-15", "Laptop 15in", "1299.00"), ("PHONE-X", "Smartphone X", "899.00"), ("TABLET-10", "Tablet 10in", "449.00"),
    ("HEADPHONES", "Noise-cancelling headphones", "249.00"), ("EARBUDS", "Wireless earbuds", "129.00"),
    ("MONITOR-27", "27in monitor", "329.00"), ("KEYBOARD", "Mechanical keyboard", "89.00"), ("MOUSE", "Wireless mouse", "39.00"),
    ("WEBCAM", "HD webcam", "69.00"), ("CHARGER", "USB-C charger", "29.00"), ("CABLE", "USB-C cable", "12.00"),
    ("POWERBANK", "Power bank", "49.00"), ("SPEAKER", "Bluetooth speaker", "79.00"), ("WATCH", "Smart watch", "299.00"),
    ("CAMERA", "Mirrorless camera", "1099.00"), ("LENS-50", "50mm lens", "399.00"), ("SDCARD", "SD card 128GB", "24.00"),
    ("ROUTER", "Wi-Fi router", "159.00"), ("SSD-1TB", "SSD 1TB", "99.00"), ("PRINTER", "Laser printer", "219.00"),
    ("MUG", "Coffee mug", "14.00"), ("NOTEBOOK", "Paper notebook", "8.50"), ("PENS", "Pen set", "11.00"),
    ("BACKPACK", "Laptop backpack", "69.00"), ("DESKLAMP", "Desk lamp", "45.00"), ("CHAIR", "Office chair", "349.00"),
    ("DESK", "Standing desk", "599.00"), ("BOTTLE", "Water bottle", "19.00"), ("HOODIE", "Hoodie", "55.00"), ("TSHIRT", "T-shirt", "22.00"),
]  # fmt: skip
HOME_COUNTRIES = ["US"] * 8 + ["GB"] * 4 + ["DE"] * 3 + ["FR"] * 3 + ["CA"] * 2 + ["NL", "ES", "IT", "SE", "AU", "IE"]
FAR_COUNTRIES = ["NG", "BR", "VN", "RU", "ID", "PH", "UA", "KE", "PK", "AR"]
FIRST = ["Alice", "Bob", "Carol", "Dan", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoe"]  # fmt: skip
LAST = ["Johnson", "Smith", "Brown", "Williams", "Clark", "Green", "Stone", "Fox", "Lee", "Patel", "Garcia", "Müller", "Rossi", "Dubois", "Kowalski", "Nakamura"]  # fmt: skip


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    country: str
    favourites: tuple[str, ...]
    max_quantity: int  # usual quantity per line is 1..max_quantity
    payment_method: str
    peak_hour: int = 20  # the UTC hour this customer shops around (a daily rhythm)


@dataclass(frozen=True)
class Shop:
    currency: str
    products: tuple[Product, ...]
    customers: tuple[Customer, ...]

    def product(self, sku: str) -> Product:
        return next(p for p in self.products if p.sku == sku)

    def catalog(self) -> dict[str, CatalogEntry]:
        """The catalog the demo loads into the stack, and training replays with (price features use it)."""
        return {p.sku: CatalogEntry(p.sku, p.price, self.currency, p.name) for p in self.products}


def build_shop(seed: int, customers: int = 1000, currency: str = "USD") -> Shop:
    rng = random.Random(seed)
    products = tuple(Product(sku, name, Decimal(price)) for sku, name, price in PRODUCTS)
    people = tuple(
        Customer(
            customer_id=f"C{i:05d}",
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            country=rng.choice(HOME_COUNTRIES),
            favourites=tuple(rng.sample([p.sku for p in products], 6)),
            max_quantity=rng.choice([1, 2, 2, 3]),
            payment_method=rng.choice(["card", "card", "card", "paypal", "apple_pay"]),
            peak_hour=rng.choice([8, 12, 13, 18, 19, 20, 21, 22]),
        )
        for i in range(customers)
    )
    return Shop(currency, products, people)
