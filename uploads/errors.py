"""What the resumable-upload services refuse, each with its tus status code."""

from fileflow.errors import Conflict, DomainError, NotFound


class UploadNotFound(NotFound):
    code = "upload_not_found"


class UploadExpired(DomainError):
    status_code = 410
    code = "upload_expired"


class UploadLost(DomainError):
    status_code = 410
    code = "upload_lost"


class OffsetMismatch(Conflict):
    code = "offset_mismatch"


class UploadBusy(Conflict):
    code = "upload_busy"


class ChecksumMismatch(DomainError):
    # tus 1.0 checksum extension: "460 Checksum Mismatch".
    status_code = 460
    code = "checksum_mismatch"


class InvalidTusRequest(DomainError):
    code = "invalid_tus_request"


class UnsupportedVersion(DomainError):
    status_code = 412
    code = "unsupported_tus_version"


class WrongContentType(DomainError):
    status_code = 415
    code = "wrong_content_type"


class UploadUnavailable(DomainError):
    # The file could not be stored for now (the object store or the database did not
    # answer); the upload is kept and the same request may be sent again (Retry-After).
    status_code = 503
    code = "storage_unavailable"
