// Why a peer may not join a room, with the code the signaling protocol answers (401 token, 403 refused,
// 404 no such room, 503 the server is shutting down: try again). Its own module: the room registry throws it and the signaling catches it, and neither
// should import the other for that.
export class JoinError extends Error {
  constructor(
    readonly code: 401 | 403 | 404 | 503,
    message: string,
  ) {
    super(message);
  }
}
