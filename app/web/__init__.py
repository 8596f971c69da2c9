from app.web import convertors as _convertors  # noqa: F401  (the bounded {name:int} convertor)
