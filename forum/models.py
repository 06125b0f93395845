"""Import every model so that ``Base.metadata`` knows the whole schema (Alembic, tests)."""

from forum.accounts.models import Member, MemberMute, MemberPath, Notice, Role, WebSession
from forum.chat.models import ChatCursor, ChatMessage, LiveSocket
from forum.db import Base
from forum.moderation.models import Flag, ItemType, ModerationLog, ReviewItem, WatchedWord
from forum.rooms.models import Post, Room, Thread, Visibility

__all__ = [
    "Base", "ChatCursor", "ChatMessage", "Flag", "ItemType", "LiveSocket", "Member", "MemberMute", "MemberPath",
    "ModerationLog", "Notice", "Post", "ReviewItem", "Role", "Room", "Thread", "Visibility",
    "WatchedWord", "WebSession",
]
