"""What the file services refuse, each with the status code its message goes out with."""

from fileflow.errors import Conflict, DomainError, NotFound


class InvalidName(DomainError):
    code = "invalid_name"


class NameConflict(Conflict):
    code = "name_conflict"


class InvalidMove(DomainError):
    code = "invalid_move"


class NotAFolder(DomainError):
    code = "not_a_folder"


class NodeNotFound(NotFound):
    code = "not_found"


class NotInTrash(DomainError):
    code = "not_in_trash"


class QuotaExceeded(DomainError):
    status_code = 413
    code = "quota_exceeded"


class UploadTooLarge(DomainError):
    status_code = 413
    code = "upload_too_large"


class LengthRequired(DomainError):
    status_code = 411
    code = "length_required"


class IncompleteUpload(DomainError):
    code = "incomplete_upload"


class InvalidUpload(DomainError):
    code = "invalid_upload"
