import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';

/** The signed-in user, as the app's own login put it on the request. */
export interface SignedInRequest {
  headers: Record<string, string | string[] | undefined>;
  drillsterUserId?: string;
}

/**
 * Stands in for the app's real authentication: it trusts an `x-demo-user` header naming the
 * user's Drillster id. A real app takes it from its session.
 */
@Injectable()
export class CurrentUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<SignedInRequest>();
    const user = request.headers['x-demo-user'];
    if (typeof user !== 'string' || user === '') throw new UnauthorizedException('Sign in first');
    request.drillsterUserId = user;
    return true;
  }
}
