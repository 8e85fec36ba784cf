"""The JSON API's operations (app/api/ holds its rules: modes, bodies, errors, schemas
and the OpenAPI document). Each module drives the same services as the HTML page of its
flow, so the API and the pages answer alike."""
