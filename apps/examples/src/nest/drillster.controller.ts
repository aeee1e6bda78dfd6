import { DrillsterAuthService, InjectDrillsterApi } from '@drillster-auth/nest';
import { Controller, Get, Header, Inject, Req, UseGuards } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import { CurrentUserGuard, type SignedInRequest } from './current-user.guard.js';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

@Controller()
export class DrillsterController {
  constructor(
    @InjectDrillsterApi() private readonly drillster: AxiosInstance,
    @Inject(DrillsterAuthService) private readonly auth: DrillsterAuthService,
  ) {}

  /** Calls the Drillster API as the service account, through the injected client. */
  @Get('me')
  async me(): Promise<unknown> {
    const { data } = await this.drillster.get('user');
    return data;
  }

  /** A token for the signed-in user, for a widget's `drl-token` attribute. */
  @Get('widget-token')
  @UseGuards(CurrentUserGuard)
  async widgetToken(
    @Req() request: SignedInRequest,
  ): Promise<{ token: string; expiresAt: number }> {
    return this.auth.getWidgetToken(request.drillsterUserId!);
  }

  /** A page embedding Drillster's Player for the signed-in user. */
  @Get('widget')
  @UseGuards(CurrentUserGuard)
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async widget(@Req() request: SignedInRequest): Promise<string> {
    const { token } = await this.auth.getWidgetToken(request.drillsterUserId!);
    return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Practice</title></head>
  <body>
    <div class="drl-widget drl-player" drl-token="${escapeHtml(token)}"></div>
    <script src="https://www.drillster.com/widgets/loader.js" async></script>
  </body>
</html>
`;
  }
}
