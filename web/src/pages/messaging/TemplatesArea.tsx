import { Route, Routes } from 'react-router';
import NotFoundPage from '../NotFoundPage';
import TemplateEditorPage from './TemplateEditorPage';
import TemplateListPage from './TemplateListPage';
import { addAreaTexts } from '../../i18n';
import en from '../../locales/campaigns.en.json';
import th from '../../locales/campaigns.th.json';

addAreaTexts({ th, en });

/** The templates screens: /templates, /templates/new, /templates/:name. */
export default function TemplatesArea() {
  return (
    <Routes>
      <Route index element={<TemplateListPage />} />
      <Route path="new" element={<TemplateEditorPage />} />
      <Route path=":name" element={<TemplateEditorPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
