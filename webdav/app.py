"""The wsgidav application FileFlow mounts, built once per mount path."""

from __future__ import annotations

import functools

from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from webdav.errors import DavErrors
from webdav.provider import FileFlowProvider
from webdav.storage import DbLockStorage, DbPropertyManager, FileFlowLockManager


@functools.cache
def dav_app(mount_path: str) -> WsgiDAVApp:
    """wsgidav with our provider, locks and dead properties in the database, and no
    authenticator or directory browser of its own (webdav.views signs the user in)."""
    app = WsgiDAVApp(
        {
            "provider_mapping": {"/": FileFlowProvider()},
            "mount_path": mount_path,
            "lock_storage": DbLockStorage(),
            "property_manager": DbPropertyManager(),
            "middleware_stack": [DavErrors, RequestResolver],
            "http_authenticator": {
                "domain_controller": None,
                "accept_basic": False,
                "accept_digest": False,
            },
            "dir_browser": {"enable": False},
            "suppress_version_info": True,
            "verbose": 1,
            "logging": {"enable": False},
        }
    )
    # The same storage, behind a manager that grants locks inside a database transaction.
    for provider in app.provider_map.values():
        provider.set_lock_manager(FileFlowLockManager())
    return app
