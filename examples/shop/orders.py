"""A small order service with the problems pyarch-lint looks for."""

import time

import requests


def apply_discounts(orders, rules, customer, region, currency, clock, audit):
    for order in orders:
        if order.open:
            for line in order.lines:
                if line.quantity > 0:
                    for rule in rules:
                        if rule.matches(line):
                            line.price = rule.apply(line.price)
    return orders


def load_prices(path):
    try:
        with open(path) as stream:
            return stream.read()
    except Exception:
        return None


async def fetch_stock(sku):
    time.sleep(0.5)
    response = requests.get(f"https://stock.example.com/{sku}")
    return response.json()
