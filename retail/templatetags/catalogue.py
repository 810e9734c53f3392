"""The catalogue's text in the reader's language (`retail.catalogue`):
`{{ line.variant.product|product_name }}`, `{{ category|category_name }}`,
`{{ variant.colour|catalogue_term }}`."""

from django import template

from retail import catalogue

register = template.Library()


@register.filter
def product_name(product) -> str:
    return catalogue.product_name(product)


@register.filter
def category_name(category) -> str:
    return catalogue.category_name(category)


@register.filter
def catalogue_term(text) -> str:
    return catalogue.term(text) if text else text


@register.filter
def category_name_of(english: str, code: str) -> str:
    """`{{ name|category_name_of:code }}`: a category known by its code and English name."""
    return catalogue.category_name_for(code, english)


@register.filter
def product_name_of(english: str, product_id: int) -> str:
    """`{{ row.product__name|product_name_of:row.product_id }}`: a product known by values."""
    return catalogue.product_name_for(product_id, english)
