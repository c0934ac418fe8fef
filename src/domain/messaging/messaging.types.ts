/** Conversations, members and messages as the domain sees them (camelCase; presenters make the JSON). */

/** A message's state for its sender, derived from the other members' watermarks (`pending` is client-only). */
export type MessageStatus = 'sent' | 'delivered' | 'read';
export const MESSAGE_STATUSES = ['sent', 'delivered', 'read'] as const;

export type MemberRole = 'owner' | 'member';

export interface Member {
  userId: string;
  role: MemberRole;
  joinedAt: Date;
  /** Every message with seq ≤ deliveredSeq reached one of this member's devices. */
  deliveredSeq: number;
  /** Every message with seq ≤ readSeq was displayed to this member. Never above deliveredSeq. */
  readSeq: number;
}

export interface Message {
  id: string;
  conversationId: string;
  /** Null only if the sender's account was removed. */
  senderId: string | null;
  /** Per-conversation position: gap-free, strictly increasing, assigned at commit. */
  seq: number;
  /** Per-conversation change position: bumped by the insert, each edit and the deletion. */
  changeSeq: number;
  clientMsgId: string | null;
  /** Null once deleted. */
  body: string | null;
  createdAt: Date;
  editedAt: Date | null;
  deletedAt: Date | null;
  status: MessageStatus;
}

export interface Conversation {
  id: string;
  title: string | null;
  createdBy: string | null;
  /** A 1:1 conversation (at most one per pair of users). */
  isDirect: boolean;
  lastSeq: number;
  lastChangeSeq: number;
  lastMessageAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  members: Member[];
  /** The message with seq = lastSeq (possibly deleted), or null before the first message. */
  lastMessage: Message | null;
}

/** One row of a user's chat inbox: the conversation plus that user's watermarks. */
export interface InboxEntry {
  conversation: Conversation;
  deliveredSeq: number;
  readSeq: number;
  /** lastSeq - readSeq. */
  unreadCount: number;
}

/** A page of an offset-paginated list. */
export interface Page<T> {
  count: number;
  items: T[];
}

/** A window of a conversation's history by seq (ascending). */
export interface MessageWindow {
  items: Message[];
  /** Older messages exist before the first item. */
  hasBefore: boolean;
  /** Newer messages exist after the last item. */
  hasAfter: boolean;
  /** Seq of the first item (or where it would be for an empty window): the `before_seq` of the previous window. */
  firstSeq: number;
  /** Seq of the last item (or where it would be): the `after_seq` of the next window. */
  lastSeq: number;
}

/** The per-recipient state of one message. */
export interface Receipt {
  userId: string;
  deliveredSeq: number;
  readSeq: number;
  delivered: boolean;
  read: boolean;
}

/** The changed watermarks of one sender after a reader's receipt (their messages ≤ the seqs changed status). */
export interface SenderStatusChange {
  userId: string;
  /** Every message of this sender with seq ≤ deliveredSeq is now `delivered` (or `read`). */
  deliveredSeq: number;
  readSeq: number;
  previousDeliveredSeq: number;
  previousReadSeq: number;
}

/** A reader's watermarks after marking delivered/read. */
export interface Watermarks {
  conversationId: string;
  userId: string;
  deliveredSeq: number;
  readSeq: number;
  lastSeq: number;
}

/** Changes of one conversation after a change cursor (for reconnect catch-up and long-poll). */
export interface ConversationSync {
  conversationId: string;
  /** Messages created, edited or deleted after the cursor, in change_seq order (deleted ones have no body). */
  changes: Message[];
  /** More changes exist: call again with `lastChangeSeq`. */
  hasMore: boolean;
  /** The cursor to pass next time. */
  lastChangeSeq: number;
}
