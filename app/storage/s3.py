"""The S3 backend: boto3 with path-style addressing, every blocking call in a worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from typing import IO, Any

from app.storage.backends import CHUNK, ObjectMissing, check_key

MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    def __init__(
        self, bucket: str, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def client(self) -> Any:
        """The boto3 client, built once (building it is blocking: call it in a thread)."""
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                session = boto3.session.Session()
                self._client = session.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    region_name=self.region,
                    config=Config(
                        s3={"addressing_style": "path"},
                        signature_version="s3v4",
                        retries={"max_attempts": 3, "mode": "standard"},
                        connect_timeout=5,
                        read_timeout=60,
                    ),
                )
            return self._client

    def _put(self, key: str, data: bytes | IO[bytes], content_type: str) -> None:
        self.client().put_object(
            Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type
        )

    async def put(
        self, key: str, data: bytes | IO[bytes], content_type: str = "application/octet-stream"
    ) -> None:
        await asyncio.to_thread(self._put, key, data, content_type)

    def _get(self, key: str) -> Any:
        from botocore.exceptions import ClientError

        try:
            return self.client().get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                raise ObjectMissing(key) from None
            raise

    async def open(self, key: str, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        body = await asyncio.to_thread(self._get, key)
        try:
            while chunk := await asyncio.to_thread(body.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(body.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            lambda: self.client().delete_object(Bucket=self.bucket, Key=check_key(key))
        )

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client().head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                return False
            raise
        return True

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._exists, key)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))
