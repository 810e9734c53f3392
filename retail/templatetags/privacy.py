"""Masked contact details for lists of customers (`{% load privacy %}`)."""

from django import template

from retail import audit

register = template.Library()


@register.filter
def masked_email(value: str) -> str:
    """`jane@example.com` → `j•••@example.com`."""
    return audit.mask_email(value)


@register.filter
def masked_phone(value: str) -> str:
    """`+447700900123` → `+44 •••• ••• 123`."""
    return audit.mask_phone(value)
