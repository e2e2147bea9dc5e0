import { Hono } from 'hono';
import { findOwnConversation } from '../rag/conversation.ts';
import type { ConversationTranscript } from '../shared/protocol.ts';
import type { ConversationStore } from '../store/conversations.ts';
import { requireKnowledgeBase } from './access-control.ts';
import type { AppEnv } from './app-env.ts';
import { requestOwner } from './request-owner.ts';

/**
 * `GET /conversations/:id`: the transcript of a server-side conversation, to the key that created it
 * (any caller while the service runs without keys). Another key's conversation, an unknown id and one
 * deleted by retention are all 404 `not_found`, so ids cannot be probed.
 *
 * @example
 * app.route('/', createConversationRoutes({ conversations }));
 */
export function createConversationRoutes(deps: { conversations: ConversationStore }): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/conversations/:id', (c) => {
    const { owner: _owner, ...conversation } = findOwnConversation(
      deps.conversations,
      c.req.param('id'),
      requestOwner(c),
    );
    // The key may have lost access to the knowledge base since it started the conversation.
    requireKnowledgeBase(c, conversation.kb);
    c.get('requestLog').kb = conversation.kb;
    const transcript: ConversationTranscript = conversation;
    return c.json(transcript);
  });
}
