"""The OpenAPI schema: each operation also states the scopes its key needs."""

from drf_spectacular.openapi import AutoSchema


class AisleAutoSchema(AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        scopes = getattr(self.view, "required_scopes", {}).get(self.method, [])
        if operation is not None and scopes:
            operation["x-scopes"] = list(scopes)
            note = "Needs the scope(s): " + ", ".join(f"`{s}`" for s in scopes) + "."
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
        return operation
